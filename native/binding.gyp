{
  "targets": [
    {
      "target_name": "warren_fs",
      "sources": ["warren_fs.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["warren_fs.c"]}]]
    },
    {
      "target_name": "warren_deadline",
      "sources": ["deadline.cc"],
      "cflags_cc": ["-O2", "-std=c++20"]
    }
  ]
}
