//! The public face of the JIT: [`JitCompiler`] turns a [`Program`] into a [`JitKernel`]
//! (once per distinct program), and a kernel runs over byte buffers, on the calling thread
//! or split over rayon.

use super::codegen;
use super::program::Program;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The generated code's signature: `(inputs, outputs, start, end)`.
type KernelFn = unsafe extern "C" fn(*const *const u8, *const *mut u8, usize, usize);

/// Elements per rayon task in [`JitKernel::run_parallel`] (a multiple of 4).
const CHUNK: usize = 1 << 15;

/// Compiles elementwise programs to native code for the host CPU (Cranelift, f32x4 SIMD),
/// caching the kernels by program so identical fused groups compile once.
///
/// Each kernel's code stays mapped for the rest of the process (Cranelift's JIT memory is
/// leaked on purpose when its module is dropped, so kernel pointers can never dangle); the
/// cache bounds this to one copy per distinct program.
pub struct JitCompiler {
    isa: OwnedTargetIsa,
    fma: bool,
    cache: Mutex<HashMap<Program, JitKernel>>,
}

impl JitCompiler {
    /// A compiler for the host CPU (its SIMD features detected at run time).
    pub fn new() -> Result<JitCompiler, String> {
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", "speed"),
            ("use_colocated_libcalls", "false"),
            ("is_pic", "false"),
            // The verifier runs explicitly in `compile`, with a clearer message.
            ("enable_verifier", "false"),
        ] {
            flags
                .set(k, v)
                .map_err(|e| format!("Cranelift setting {k}={v}: {e}"))?;
        }
        let isa = cranelift_native::builder()
            .map_err(|e| format!("Cranelift does not support this host: {e}"))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| format!("Cranelift ISA: {e}"))?;
        let fma = isa
            .isa_flags()
            .iter()
            .any(|f| f.name == "has_fma" && f.as_bool() == Some(true));
        Ok(JitCompiler {
            isa,
            fma,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whether the generated code uses fused multiply-add (the host has FMA).
    pub fn uses_fma(&self) -> bool {
        self.fma
    }

    /// This compiler, generating separate multiplies and adds even where the host has FMA
    /// (the code hosts without FMA run; for testing it on any host).
    pub fn without_fma(mut self) -> JitCompiler {
        self.fma = false;
        self
    }

    /// Number of distinct programs compiled so far.
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.len())
    }

    /// The kernel for `program`, compiled on first use. Errors (an invalid program, or
    /// Cranelift rejecting the code) name the program.
    pub fn compile(&self, program: &Program) -> Result<JitKernel, String> {
        let poisoned = |_| format!("program `{}`: the JIT cache lock is poisoned", program.name);
        if let Some(k) = self.cache.lock().map_err(poisoned)?.get(program) {
            return Ok(k.clone());
        }
        let kernel = self.compile_uncached(program)?;
        let mut cache = self.cache.lock().map_err(poisoned)?;
        Ok(cache.entry(program.clone()).or_insert(kernel).clone())
    }

    fn compile_uncached(&self, program: &Program) -> Result<JitKernel, String> {
        program.validate()?;
        let err = |what: &str, e: String| format!("program `{}`: {what}: {e}", program.name);
        let mut module = JITModule::new(JITBuilder::with_isa(
            self.isa.clone(),
            default_libcall_names(),
        ));
        let mut ctx = module.make_context();
        codegen::signature(
            &mut ctx.func.signature,
            module.target_config().pointer_type(),
        );
        let id = module
            .declare_function("kernel", Linkage::Local, &ctx.func.signature)
            .map_err(|e| err("declaring the kernel", e.to_string()))?;
        let mut fctx = FunctionBuilderContext::new();
        codegen::build(
            program,
            &mut ctx.func,
            &mut fctx,
            module.target_config(),
            self.fma,
        );
        cranelift_codegen::verify_function(&ctx.func, self.isa.as_ref())
            .map_err(|e| err("Cranelift verifier", format!("{e}\n{}", ctx.func.display())))?;
        module
            .define_function(id, &mut ctx)
            .map_err(|e| err("Cranelift code generation", format!("{e:?}")))?;
        module
            .finalize_definitions()
            .map_err(|e| err("Cranelift finalisation", e.to_string()))?;
        let code = module.get_finalized_function(id);
        // SAFETY: `code` is the entry of the function just finalised, built by
        // `codegen::build` with the signature `codegen::signature` gives it (four
        // pointer-sized integers in the host's default calling convention), which is the
        // C ABI of `KernelFn`. The code stays mapped after `module` drops (see the type's
        // docs).
        let func = unsafe { std::mem::transmute::<*const u8, KernelFn>(code) };
        Ok(JitKernel {
            inner: Arc::new(Compiled {
                func,
                program: program.clone(),
            }),
        })
    }
}

struct Compiled {
    func: KernelFn,
    program: Program,
}

/// A compiled program; cheap to clone and shareable between threads.
#[derive(Clone)]
pub struct JitKernel {
    inner: Arc<Compiled>,
}

impl std::fmt::Debug for JitKernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JitKernel({})", self.inner.program.name)
    }
}

impl JitKernel {
    /// The program this kernel computes.
    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    /// Runs the kernel over elements `[0, len)` on the calling thread. The buffers must
    /// match [`Program::check_buffers`]; a mismatch is an error and nothing is written.
    pub fn run(
        &self,
        inputs: &[&[u8]],
        outputs: &mut [&mut [u8]],
        len: usize,
    ) -> Result<(), String> {
        let (ins, outs) = self.pointers(inputs, outputs, len)?;
        if len > 0 {
            self.call(&ins, &outs, 0, len);
        }
        Ok(())
    }

    /// [`JitKernel::run`] with `[0, len)` split into chunks run on the rayon pool.
    pub fn run_parallel(
        &self,
        inputs: &[&[u8]],
        outputs: &mut [&mut [u8]],
        len: usize,
    ) -> Result<(), String> {
        let (ins, outs) = self.pointers(inputs, outputs, len)?;
        (0..len.div_ceil(CHUNK)).into_par_iter().for_each(|c| {
            self.call(&ins, &outs, c * CHUNK, ((c + 1) * CHUNK).min(len));
        });
        Ok(())
    }

    /// Checks the buffers and returns their addresses (as integers, so they cross threads).
    fn pointers(
        &self,
        inputs: &[&[u8]],
        outputs: &mut [&mut [u8]],
        len: usize,
    ) -> Result<(Vec<usize>, Vec<usize>), String> {
        self.inner.program.check_buffers(inputs, outputs, len)?;
        let ins = inputs.iter().map(|b| b.as_ptr() as usize).collect();
        let outs = outputs
            .iter_mut()
            .map(|b| b.as_mut_ptr() as usize)
            .collect();
        Ok((ins, outs))
    }

    /// Calls the code on `[start, end)` with the buffer addresses from `pointers`.
    fn call(&self, ins: &[usize], outs: &[usize], start: usize, end: usize) {
        // SAFETY: `ins`/`outs` hold one address per program input/output, taken from
        // buffers that `check_buffers` found large enough for every element the code
        // touches in [0, len) ⊇ [start, end) with start < end ≤ len (contiguous: `len`
        // elements; scalar: 1, read even before the loop, which is why callers never call
        // with len = 0; strided: `Access::needed`), and those borrows outlive this call (`run` and
        // `run_parallel` hold them until every call returns). Inputs are only read.
        // Outputs are `&mut` slices, so nothing else aliases them, and each call writes
        // only elements [start, end), disjoint between the parallel chunks. `usize` and
        // `*const u8` have the same layout, so the arrays are valid pointer arrays.
        unsafe {
            (self.inner.func)(
                ins.as_ptr() as *const *const u8,
                outs.as_ptr() as *const *mut u8,
                start,
                end,
            )
        }
    }
}
