package main

// setns(2) on linux/amd64 (arch/x86/entry/syscalls/syscall_64.tbl); Go 1.19's syscall
// package has no name for it.
const sysSetns = 308
