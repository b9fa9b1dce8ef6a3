// SPDX-License-Identifier: Apache-2.0
// Linked into the apps that train or infer with LibTorch: tcmalloc (gperftools, from Debian)
// replaces glibc's malloc and never hands freed memory back to the kernel.
//
// Why: a training step frees and re-allocates the same large tensors every batch. glibc returns
// such blocks to the kernel (munmap / trim) and faults them back in on the next step; on these
// machines page faults are expensive and that cost half the CPU time of a MobileNetV2 epoch (sys ≈
// user). tcmalloc with a release rate of 0 keeps the pages: the resident size stays at the step's
// peak, which a trainer reaches anyway. Setting the rate here, at start-up, means the user needs no
// environment variable.
#include <gperftools/malloc_extension.h>

namespace {

struct KeepFreedMemory {
  KeepFreedMemory() { MallocExtension::instance()->SetMemoryReleaseRate(0.0); }
};
const KeepFreedMemory keep_freed_memory;

}  // namespace
