//! The CUDA backend's errors and the checks for its native libraries.

use hyv_runtime::Error;

/// The backend name used in errors and on the command line.
pub const NAME: &str = "cuda";

/// A backend error with the CUDA backend's name.
pub fn cuda_error(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: NAME.into(),
        message: message.into(),
    }
}

/// Whether the CUDA driver library (`libcuda.so`) can be loaded. cudarc panics on first
/// use when it cannot, so every driver call is guarded by this check.
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen the library's candidate names.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Whether NVRTC (`libnvrtc.so.13`) can be loaded (see [`driver_present`]).
pub fn nvrtc_present() -> bool {
    // SAFETY: only tries to dlopen the library's candidate names.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// The error when the driver is missing.
pub fn no_driver() -> Error {
    cuda_error(
        "no CUDA driver found (libcuda.so / libcuda.so.1 not loadable); install the NVIDIA \
         driver or pick --backend cpu",
    )
}

/// The error when NVRTC is missing.
pub fn no_nvrtc() -> Error {
    cuda_error(
        "NVRTC not found (libnvrtc.so.13 not loadable): install the CUDA 13 toolkit or \
         `pip install nvidia-cuda-nvrtc==13.0.88` and add its nvidia/cu13/lib folder to \
         LD_LIBRARY_PATH (tools/cuda/nvrtc.sh prints it)",
    )
}
