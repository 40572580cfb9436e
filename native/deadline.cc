// A deadline for synchronous calls on the thread that makes them: runWithDeadline(fn, ms) calls
// fn() and, if it is still running after `ms`, stops it with V8's TerminateExecution (the way
// Node's own `vm` timeouts do) and throws an Error with code 'E_DEADLINE' instead.
//
// Why it is hand-written: Node offers a timeout only through `vm.runInContext`, which starts and
// joins a new thread per call (tens of microseconds: more than a small job). Here one watchdog
// thread per isolate sleeps until the earliest deadline armed (or until one is armed), and
// arming a call is a store under an uncontended mutex, with no wakeup while calls follow each
// other.
//
// Why V8's API and not Node-API: Node-API has no way to stop running JavaScript
// (TerminateExecution), which is the whole point; see docs/decisions.md. The addon is therefore
// built for one Node ABI, and scripts/build-native.mjs rebuilds it when process.versions.modules
// changes.
//
// Calls nest: each level keeps its own deadline, the watchdog waits for the earliest, and when
// it fires the outermost level whose deadline has passed is the one stopped (the levels inside
// it unwind with E_DEADLINE too and cannot swallow the stop).
#include <node.h>
#include <v8.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Largest budget taken: about 31 years (well inside steady_clock's range).
constexpr double kMaxMs = 1e12;

enum class Outcome { kInTime, kStoppedHere, kStoppedOutside };

class Watchdog {
 public:
  explicit Watchdog(v8::Isolate* isolate) : isolate_(isolate), thread_([this] { Run(); }) {}

  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // Opens a level with its own deadline, `ms` from now.
  void Arm(double ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    Clock::time_point deadline = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
    levels_.push_back(deadline);
    // Wake the watchdog only if it would otherwise sleep past this deadline.
    if (firedLevel_ < 0 && (sleeping_ || deadline < waitingUntil_)) wake_.notify_one();
  }

  // Closes the innermost level: whether the deadline stopped this level, one outside it, or
  // neither. After this, this level's deadline cannot fire.
  Outcome Disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    int level = static_cast<int>(levels_.size()) - 1;
    levels_.pop_back();
    if (firedLevel_ < 0) return Outcome::kInTime;
    if (firedLevel_ < level) return Outcome::kStoppedOutside;
    firedLevel_ = -1;
    // Levels outside this one still have deadlines: watch them again.
    if (!levels_.empty()) wake_.notify_one();
    return Outcome::kStoppedHere;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (levels_.empty() || firedLevel_ >= 0) {
        // Nothing to watch (or a stop is on its way out): sleep until Arm or Disarm wakes us.
        sleeping_ = true;
        wake_.wait(lock);
        sleeping_ = false;
        continue;
      }
      // Sleep until the earliest deadline. Calls armed meanwhile with later deadlines (time only
      // moves forward, budgets are alike) need not wake us: we look again when this one passes.
      // An earlier deadline (a shorter budget) does wake us.
      Clock::time_point earliest = Clock::time_point::max();
      for (const auto& d : levels_) earliest = std::min(earliest, d);
      waitingUntil_ = earliest;
      wake_.wait_until(lock, waitingUntil_);
      waitingUntil_ = Clock::time_point::max();
      if (stopping_ || firedLevel_ >= 0) continue;
      Clock::time_point now = Clock::now();
      for (size_t i = 0; i < levels_.size(); i++) {
        if (levels_[i] <= now) {
          firedLevel_ = static_cast<int>(i);
          isolate_->TerminateExecution();
          break;
        }
      }
    }
  }

  v8::Isolate* isolate_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // The deadline of each open call, outermost first.
  std::vector<Clock::time_point> levels_;
  Clock::time_point waitingUntil_ = Clock::time_point::max();
  // The level whose deadline fired (the outermost passed one), -1 while none has.
  int firedLevel_ = -1;
  bool sleeping_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

void Throw(v8::Isolate* isolate, v8::Local<v8::Value> err, const char* code) {
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  err.As<v8::Object>()
      ->Set(context, v8::String::NewFromUtf8Literal(isolate, "code"),
            v8::String::NewFromUtf8(isolate, code).ToLocalChecked())
      .Check();
  isolate->ThrowException(err);
}

void RunWithDeadline(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 2 || !info[0]->IsFunction() || !info[1]->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(
        v8::String::NewFromUtf8Literal(isolate, "runWithDeadline(fn, ms): fn must be a function and ms a number")));
    return;
  }
  double ms = info[1].As<v8::Number>()->Value();
  if (!std::isfinite(ms) || ms < 0 || ms > kMaxMs) {
    Throw(isolate,
          v8::Exception::RangeError(v8::String::NewFromUtf8Literal(
              isolate, "runWithDeadline(fn, ms): ms must be a finite number of milliseconds from 0 to 1e12")),
          "E_BAD_DEADLINE");
    return;
  }
  auto* dog = static_cast<Watchdog*>(info.Data().As<v8::External>()->Value());
  v8::Local<v8::Function> fn = info[0].As<v8::Function>();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();

  Outcome outcome;
  {
    v8::TryCatch tryCatch(isolate);
    dog->Arm(ms);
    v8::MaybeLocal<v8::Value> result = fn->Call(context, v8::Undefined(isolate), 0, nullptr);
    outcome = dog->Disarm();
    if (outcome == Outcome::kInTime) {
      if (tryCatch.HasCaught() || tryCatch.HasTerminated()) {
        tryCatch.ReThrow();  // takes effect when tryCatch goes out of scope
      } else {
        info.GetReturnValue().Set(result.ToLocalChecked());
      }
      return;
    }
    // Whether or not the termination was delivered yet, none may be left pending here: this
    // level ends with E_DEADLINE below.
    isolate->CancelTerminateExecution();
  }
  // The level outside whose deadline passed must stop too, even if the code between catches
  // what this level throws: stop it again (its own Disarm cancels that and throws E_DEADLINE).
  if (outcome == Outcome::kStoppedOutside) isolate->TerminateExecution();
  // Thrown outside the TryCatch above, which would swallow it.
  Throw(isolate,
        v8::Exception::Error(v8::String::NewFromUtf8Literal(isolate, "the call ran past its deadline and was stopped")),
        "E_DEADLINE");
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate* isolate = context->GetIsolate();
  auto* dog = new Watchdog(isolate);
  node::AddEnvironmentCleanupHook(isolate, [](void* arg) { delete static_cast<Watchdog*>(arg); }, dog);
  v8::Local<v8::External> data = v8::External::New(isolate, dog);
  v8::Local<v8::FunctionTemplate> tpl = v8::FunctionTemplate::New(isolate, RunWithDeadline, data);
  exports->Set(context, v8::String::NewFromUtf8Literal(isolate, "runWithDeadline"), tpl->GetFunction(context).ToLocalChecked()).Check();
}
