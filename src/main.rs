//! `hyv`: compile and run HunyuanVideo graphs on the reference, CPU, CUDA and Ascend
//! backends, in eager or graph mode. One file per subcommand under `commands/`.

mod backends;
mod commands;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// hyv — a dataflow graph compiler and runtime for HunyuanVideo.
///
/// Model code is written once; `--mode eager` runs each op as it is called (like PyTorch
/// eager / MindSpore PyNative), `--mode graph` traces the model into an IR graph, optimises
/// it and compiles it for the backend (like MindSpore GRAPH_MODE).
#[derive(Parser)]
#[command(name = "hyv", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Time a model or one DiT block per backend × mode: median/min/max, GFLOP/s, memory.
    Bench(commands::bench::BenchArgs),
    /// Convert an official Tencent checkpoint to the diffusers layout hyv loads.
    Convert(commands::convert::ConvertArgs),
    /// Print the graph of a built-in model as text, DOT or RON, or its statistics.
    Dump(commands::dump::DumpArgs),
    /// PSNR and SSIM of generated or reconstructed videos against the real ones.
    Eval(commands::eval::EvalArgs),
    /// Run one model component on named inputs from a safetensors file and write its outputs.
    Forward(commands::forward::ForwardArgs),
    /// Run a built-in model on random weights and inputs in eager and/or graph mode.
    Run(commands::run::RunArgs),
    /// Text-to-video: sample videos from prompts with the HunyuanVideo pipeline.
    Sample(commands::sample::SampleArgs),
    /// Encode captions (or one prompt) into the prompt-embedding cache.
    TextEncode(commands::text_encode::TextEncodeArgs),
    /// The causal 3D VAE: reconstruct videos and images, cache dataset latents.
    #[command(subcommand)]
    Vae(commands::vae::VaeCommand),
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`hyv dump ... | head`) instead of failing on the closed pipe.
    // SAFETY: resetting a signal disposition at start-up, before any thread exists.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A bug in hyv must still end with one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("hyv: internal error: {info} (please report this as a bug)");
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => commands::bench::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Dump(args) => commands::dump::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Forward(args) => commands::forward::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Sample(args) => commands::sample::run(args),
        Command::TextEncode(args) => commands::text_encode::run(args),
        Command::Vae(command) => commands::vae::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hyv: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
