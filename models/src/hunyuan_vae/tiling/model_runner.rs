//! A [`VaeTileRunner`] over hyv models: each tile runs through a [`Session`], which compiles
//! once per tile shape (graph mode) and uploads the weights once.

use super::VaeTileRunner;
use crate::hunyuan_vae::{HunyuanVideoVaeDecoder, HunyuanVideoVaeEncoder};
use hyv_frontend::{Error, HostTensor, Result, Session};

/// Runs tiles through a session of [`HunyuanVideoVaeEncoder`] and one of
/// [`HunyuanVideoVaeDecoder`] (either may be left out when only the other direction is
/// needed), calling an optional hook after every tile (e.g. to tick a progress bar).
///
/// ```text
/// let mut runner = ModelTileRunner::new(Some(&encoder), None).on_tile(&|| bar.inc(1));
/// ```
pub struct ModelTileRunner<'a> {
    encoder: Option<&'a Session>,
    decoder: Option<&'a Session>,
    on_tile: Option<&'a dyn Fn()>,
}

impl<'a> ModelTileRunner<'a> {
    /// A runner over the given encoder and decoder sessions.
    pub fn new(encoder: Option<&'a Session>, decoder: Option<&'a Session>) -> Self {
        ModelTileRunner {
            encoder,
            decoder,
            on_tile: None,
        }
    }

    /// The same runner calling `hook` after every tile it runs.
    pub fn on_tile(mut self, hook: &'a dyn Fn()) -> Self {
        self.on_tile = Some(hook);
        self
    }

    /// Runs `session` (the `role` model, missing when `None`) on `tile` as its input `name`
    /// and returns its first output.
    fn run(
        &self,
        session: Option<&Session>,
        role: &str,
        name: &str,
        tile: &HostTensor,
    ) -> Result<HostTensor> {
        let session = session
            .ok_or_else(|| Error::Usage(format!("this VAE tile runner has no {role} session")))?;
        let out = session
            .run(&[(name.to_string(), tile.clone())])?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Usage(format!("the VAE {role} returned no output")))?;
        if let Some(hook) = self.on_tile {
            hook();
        }
        Ok(out)
    }
}

impl VaeTileRunner for ModelTileRunner<'_> {
    fn encode_tile(&mut self, sample: &HostTensor) -> Result<HostTensor> {
        self.run(
            self.encoder,
            "encoder",
            HunyuanVideoVaeEncoder::INPUT,
            sample,
        )
    }

    fn decode_tile(&mut self, latent: &HostTensor) -> Result<HostTensor> {
        self.run(
            self.decoder,
            "decoder",
            HunyuanVideoVaeDecoder::INPUT,
            latent,
        )
    }
}
