// Stand-in for a "SIGBUS child" (a process the suite would spawn to take a fault that
// kills it): Node start-up plus gmemtest's libc binding (ffi-rs load, libc opened),
// which is the least such a child has to load. Used while dist/ has no child entry.
import '../dist/kvm/libc.js';
