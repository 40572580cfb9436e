// A deadline for synchronous calls on the thread that makes them: runWithDeadline(fn, ms) calls
// fn() and, if it is still running after `ms`, stops it with V8's TerminateExecution (the way
// Node's own `vm` timeouts do) and throws an Error with code 'E_DEADLINE' instead.
//
// Why it is hand-written: Node offers a timeout only through `vm.runInContext`, which starts and
// joins a new thread per call (tens of microseconds: more than a small job). Here one watchdog
// thread per isolate sleeps until the deadline of the call it saw armed (or until one is armed),
// and arming a call is a store under an uncontended mutex, with no wakeup while calls follow
// each other.
#include <node.h>
#include <v8.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

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

  void Arm(double ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    deadline_ = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000));
    armed_ = true;
    fired_ = false;
    // Wake the watchdog only if it would otherwise sleep past this deadline.
    if (sleeping_ || deadline_ < waitingUntil_) wake_.notify_one();
  }

  // Returns whether the deadline fired during the call; after this, it cannot fire for it.
  bool Disarm() {
    std::lock_guard<std::mutex> lock(mutex_);
    armed_ = false;
    bool fired = fired_;
    fired_ = false;
    return fired;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (!armed_) {
        // Nothing to watch: sleep until Arm wakes us.
        sleeping_ = true;
        wake_.wait(lock, [this] { return armed_ || stopping_; });
        sleeping_ = false;
        continue;
      }
      // Sleep until the armed deadline. Calls armed meanwhile have later deadlines (time only
      // moves forward, budgets are alike), so Arm need not wake us: we look again when this
      // one passes. An earlier deadline (a shorter budget) does wake us.
      waitingUntil_ = deadline_;
      wake_.wait_until(lock, waitingUntil_);
      waitingUntil_ = Clock::time_point::max();
      if (armed_ && Clock::now() >= deadline_) {
        armed_ = false;
        fired_ = true;
        isolate_->TerminateExecution();
      }
    }
  }

  v8::Isolate* isolate_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Clock::time_point deadline_{};
  Clock::time_point waitingUntil_ = Clock::time_point::max();
  bool armed_ = false;
  bool fired_ = false;
  bool sleeping_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

void RunWithDeadline(const v8::FunctionCallbackInfo<v8::Value>& info) {
  v8::Isolate* isolate = info.GetIsolate();
  if (info.Length() < 2 || !info[0]->IsFunction() || !info[1]->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(
        v8::String::NewFromUtf8Literal(isolate, "runWithDeadline(fn, ms): fn must be a function and ms a number")));
    return;
  }
  auto* dog = static_cast<Watchdog*>(info.Data().As<v8::External>()->Value());
  v8::Local<v8::Function> fn = info[0].As<v8::Function>();
  double ms = info[1].As<v8::Number>()->Value();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();

  bool fired;
  {
    v8::TryCatch tryCatch(isolate);
    dog->Arm(ms);
    v8::MaybeLocal<v8::Value> result = fn->Call(context, v8::Undefined(isolate), 0, nullptr);
    fired = dog->Disarm();
    if (!fired) {
      if (tryCatch.HasCaught() || tryCatch.HasTerminated()) {
        tryCatch.ReThrow();  // takes effect when tryCatch goes out of scope
      } else {
        info.GetReturnValue().Set(result.ToLocalChecked());
      }
      return;
    }
    // Whether or not the termination was delivered yet, none may be left pending.
    isolate->CancelTerminateExecution();
  }
  // Thrown outside the TryCatch above, which would swallow it.
  v8::Local<v8::Value> err = v8::Exception::Error(
      v8::String::NewFromUtf8Literal(isolate, "the call ran past its deadline and was stopped"));
  err.As<v8::Object>()
      ->Set(context, v8::String::NewFromUtf8Literal(isolate, "code"), v8::String::NewFromUtf8Literal(isolate, "E_DEADLINE"))
      .Check();
  isolate->ThrowException(err);
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
