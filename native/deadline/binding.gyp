{
  "targets": [
    {
      "target_name": "warren_deadline",
      "sources": ["deadline.cc"],
      "cflags_cc": ["-O2", "-std=c++20"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
