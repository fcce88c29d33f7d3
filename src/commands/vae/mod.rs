//! `hyv vae`: the causal 3D VAE on its own — reconstruct videos and images, and cache the
//! latents of a dataset for training.

pub mod cache;
pub mod model;
pub mod reconstruct;

/// Subcommands of `hyv vae`.
#[derive(clap::Subcommand, Debug)]
pub enum VaeCommand {
    /// Encode and decode videos or images (one file or a whole folder) and report PSNR.
    Reconstruct(reconstruct::ReconstructArgs),
    /// Encode every video of a folder or CSV and store the posterior (latent_mean,
    /// latent_std) as one safetensors file per video, mirroring the folder tree.
    Cache(cache::CacheArgs),
}

/// Runs `hyv vae`.
pub fn run(command: VaeCommand) -> anyhow::Result<()> {
    match command {
        VaeCommand::Reconstruct(args) => reconstruct::run(args),
        VaeCommand::Cache(args) => cache::run(args),
    }
}
