//! Helpers for tests that need NVRTC or a GPU (this crate's and the `hyv` package's).

use crate::codegen::KernelSource;
use crate::error::nvrtc_present;
use crate::nvrtc::{compile, NvrtcOptions};
use crate::ptx_cache::PtxCache;
use crate::CudaBackend;

/// Whether NVRTC can be loaded, for a test named `test` that needs it. When it cannot:
/// panics if `HYV_REQUIRE_NVRTC=1` (CI, where `make unit` installs it), else prints a
/// loud skip line and returns `false`, so a test never passes silently without NVRTC.
pub fn nvrtc_for_test(test: &str) -> bool {
    if nvrtc_present() {
        return true;
    }
    let hint = "run tools/cuda/nvrtc.sh and add the folder it prints to LD_LIBRARY_PATH";
    if std::env::var("HYV_REQUIRE_NVRTC").is_ok_and(|v| v == "1") {
        panic!("{test}: NVRTC not found but HYV_REQUIRE_NVRTC=1 ({hint})");
    }
    println!("*** {test} skipped: NVRTC not found ({hint}) ***");
    false
}

/// Checks that `ptx` is PTX for `arch` with an entry point named `name`.
pub fn check_ptx(ptx: &str, arch: &str, name: &str) -> Result<(), String> {
    if !ptx.lines().any(|l| l.trim() == format!(".target {arch}")) {
        return Err(format!("PTX of `{name}` has no `.target {arch}` line"));
    }
    if !ptx.contains(&format!(".entry {name}(")) {
        return Err(format!("PTX of `{name}` has no `.entry {name}(`"));
    }
    Ok(())
}

/// The CUDA backend on device 0, for a test named `test` that needs a GPU. When there is
/// none (no driver, no NVRTC or no device): panics if `HYV_REQUIRE_CUDA=1`, else prints
/// "no CUDA device: skipped" with the reason and returns `None`.
pub fn cuda_for_test(test: &str) -> Option<CudaBackend> {
    match CudaBackend::new(0) {
        Ok(backend) => Some(backend),
        Err(e) => {
            if std::env::var("HYV_REQUIRE_CUDA").is_ok_and(|v| v == "1") {
                panic!("{test}: HYV_REQUIRE_CUDA=1 but {e}");
            }
            println!("*** {test}: no CUDA device: skipped ({e}) ***");
            None
        }
    }
}

/// Compiles every kernel with NVRTC (no cache, on all cores) and checks each PTX with
/// [`check_ptx`] for `options.arch`. Returns the distinct `.version` lines of the PTX, or
/// every failure (compile errors name their kernel and carry NVRTC's log).
pub fn compile_all(
    kernels: &[KernelSource],
    options: &NvrtcOptions,
) -> Result<Vec<String>, Vec<String>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = kernels.len().div_ceil(workers).max(1);
    let results: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = kernels
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|k| {
                            let ptx = compile(k, options, &PtxCache::disabled())
                                .map_err(|e| e.to_string())?;
                            check_ptx(&ptx, &options.arch, &k.name)?;
                            let version = ptx.lines().find(|l| l.starts_with(".version"));
                            Ok(version.unwrap_or("no .version line").to_string())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("a compile thread panicked".into())])
            })
            .collect()
    });
    let (ok, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if !failed.is_empty() {
        return Err(failed.into_iter().filter_map(Result::err).collect());
    }
    let mut versions: Vec<String> = ok.into_iter().filter_map(Result::ok).collect();
    versions.sort();
    versions.dedup();
    Ok(versions)
}
