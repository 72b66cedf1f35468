/* mirtune OpenCL prelude, included before every OpenCL source (disable with --no-cl-prelude).
   Some published kernels were preprocessed against libclc, whose headers implement builtins as macros that
   expand to internal names (fabs -> __clc_fabs); those names stayed in the kernel text. Mapping them back to
   the standard builtins lets such kernels compile. Each name is guarded, so a kernel's own definition wins. */
#ifndef MIRTUNE_OPENCL_COMPAT_H
#define MIRTUNE_OPENCL_COMPAT_H
#ifndef __clc_ceil
#define __clc_ceil ceil
#endif
#ifndef __clc_fabs
#define __clc_fabs fabs
#endif
#ifndef __clc_floor
#define __clc_floor floor
#endif
#ifndef __clc_pow
#define __clc_pow pow
#endif
#endif
