//! Safetensors I/O: memory-mapped, lazy reading of single-file and sharded checkpoints into
//! [`HostTensor`]s, and atomic writing.
//!
//! * [`SafetensorsFile`] maps one `.safetensors` file, parses and validates its header once,
//!   and converts a tensor to a [`HostTensor`] only when asked for it by name.
//! * [`WeightStore`] is the set of tensors of a checkpoint: one `.safetensors` file, or a
//!   sharded checkpoint described by a `*.safetensors.index.json` (its `weight_map` names the
//!   shard of every tensor), or a directory holding either (as a Hugging Face download does).
//! * [`write_safetensors`] writes tensors to a temporary name next to the target and renames
//!   it, so a crash never leaves a half-written file under the real name.
//!
//! Supported dtypes are hyv's: f32, f16, bf16, i32, i64 and bool. Every error is an
//! [`Error::File`] naming the file and, where one is involved, the tensor.

use crate::{Error, Result};
use hyv_ir::{DType, HostTensor, TensorData, TensorType};
use memmap2::Mmap;
use safetensors::tensor::{Dtype, Metadata, SafeTensors, TensorInfo, View};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Size of the little-endian header-length prefix of a safetensors file.
const HEADER_LEN_BYTES: usize = 8;

fn file_error(path: &Path, message: impl Into<String>) -> Error {
    Error::File {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// One memory-mapped `.safetensors` file whose tensors are converted on request.
pub struct SafetensorsFile {
    path: PathBuf,
    mmap: Mmap,
    data_start: usize,
    metadata: Metadata,
}

impl SafetensorsFile {
    /// Maps `path` and validates its header (offsets, sizes and total length), so a
    /// truncated or corrupt file is reported here rather than on first use.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = fs::File::open(&path).map_err(|e| file_error(&path, e.to_string()))?;
        // SAFETY: the map is read-only; like every safetensors reader we rely on the file
        // not being modified by another process while it is mapped.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| file_error(&path, e.to_string()))?;
        let (header_len, metadata) = SafeTensors::read_metadata(&mmap).map_err(|e| {
            file_error(
                &path,
                format!("not a valid safetensors file (truncated or corrupt): {e}"),
            )
        })?;
        Ok(SafetensorsFile {
            path,
            mmap,
            data_start: HEADER_LEN_BYTES + header_len,
            metadata,
        })
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names of every tensor in the file, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.metadata.tensors().into_keys().collect();
        names.sort();
        names
    }

    /// Whether the file holds a tensor called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.metadata.info(name).is_some()
    }

    /// The type of tensor `name` without reading its data.
    pub fn tensor_type(&self, name: &str) -> Result<TensorType> {
        let info = self.info(name)?;
        Ok(TensorType::new(
            self.dtype_of(name, info)?,
            info.shape.clone(),
        ))
    }

    /// Reads tensor `name` into host memory.
    pub fn load(&self, name: &str) -> Result<HostTensor> {
        let info = self.info(name)?;
        let dtype = self.dtype_of(name, info)?;
        let (start, end) = info.data_offsets;
        let bytes = self
            .mmap
            .get(self.data_start + start..self.data_start + end)
            .ok_or_else(|| {
                file_error(
                    &self.path,
                    format!("tensor `{name}`: data lies outside the file (corrupt file)"),
                )
            })?;
        let data = TensorData::from_le_bytes(dtype, bytes).ok_or_else(|| {
            file_error(
                &self.path,
                format!("tensor `{name}`: bytes are not valid {dtype} data (corrupt file)"),
            )
        })?;
        HostTensor::new(info.shape.clone(), data)
            .map_err(|e| file_error(&self.path, format!("tensor `{name}`: {e}")))
    }

    fn info(&self, name: &str) -> Result<&TensorInfo> {
        self.metadata
            .info(name)
            .ok_or_else(|| file_error(&self.path, format!("no tensor named `{name}`")))
    }

    fn dtype_of(&self, name: &str, info: &TensorInfo) -> Result<DType> {
        Ok(match info.dtype {
            Dtype::F32 => DType::F32,
            Dtype::F16 => DType::F16,
            Dtype::BF16 => DType::BF16,
            Dtype::I32 => DType::I32,
            Dtype::I64 => DType::I64,
            Dtype::BOOL => DType::Bool,
            other => {
                return Err(file_error(
                    &self.path,
                    format!(
                        "tensor `{name}` has dtype {other}, which hyv does not support \
                         (supported: f32, f16, bf16, i32, i64, bool)"
                    ),
                ))
            }
        })
    }
}

/// The tensors of a checkpoint, possibly spread over several shard files, read lazily.
pub struct WeightStore {
    origin: PathBuf,
    files: Vec<SafetensorsFile>,
    /// Tensor name → index into `files`.
    index: BTreeMap<String, usize>,
}

/// File names a diffusers or transformers model folder stores its weights under, in order
/// of preference.
pub const STANDARD_WEIGHT_NAMES: [&str; 4] = [
    "diffusion_pytorch_model.safetensors.index.json",
    "model.safetensors.index.json",
    "diffusion_pytorch_model.safetensors",
    "model.safetensors",
];

impl WeightStore {
    /// Opens a checkpoint: a `.safetensors` file, a `*.safetensors.index.json` (sharded), or
    /// a directory. In a directory the standard names of a Hugging Face download win
    /// ([`STANDARD_WEIGHT_NAMES`], indexes first); otherwise it must hold exactly one index
    /// or, failing that, exactly one `.safetensors`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        if path.is_dir() {
            return Self::open(Self::find_in_dir(path)?);
        }
        let is_index = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".index.json"));
        if is_index {
            Self::open_index(path)
        } else {
            let file = SafetensorsFile::open(path)?;
            let index = file.names().into_iter().map(|n| (n, 0)).collect();
            Ok(WeightStore {
                origin: path.to_path_buf(),
                files: vec![file],
                index,
            })
        }
    }

    fn find_in_dir(dir: &Path) -> Result<PathBuf> {
        if let Some(p) = STANDARD_WEIGHT_NAMES
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
        {
            return Ok(p);
        }
        let entries = fs::read_dir(dir).map_err(|e| file_error(dir, e.to_string()))?;
        let mut indexes = Vec::new();
        let mut singles = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| file_error(dir, e.to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".safetensors.index.json") {
                indexes.push(entry.path());
            } else if name.ends_with(".safetensors") {
                singles.push(entry.path());
            }
        }
        let candidates = if indexes.is_empty() { singles } else { indexes };
        match candidates.len() {
            1 => Ok(candidates.into_iter().next().expect("one candidate")),
            0 => Err(file_error(
                dir,
                "no `.safetensors` or `.safetensors.index.json` file in this directory",
            )),
            n => Err(file_error(
                dir,
                format!("{n} candidate checkpoints in this directory; name the file to load"),
            )),
        }
    }

    fn open_index(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).map_err(|e| file_error(path, e.to_string()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| file_error(path, format!("invalid JSON: {e}")))?;
        let map = json
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| file_error(path, "missing `weight_map` object"))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut shard_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut files = Vec::new();
        let mut index = BTreeMap::new();
        for (tensor, shard) in map {
            let shard = shard.as_str().ok_or_else(|| {
                file_error(
                    path,
                    format!("`weight_map` entry `{tensor}` is not a file name"),
                )
            })?;
            let id = match shard_ids.get(shard) {
                Some(&id) => id,
                None => {
                    files.push(SafetensorsFile::open(dir.join(shard))?);
                    shard_ids.insert(shard.to_string(), files.len() - 1);
                    files.len() - 1
                }
            };
            if !files[id].contains(tensor) {
                return Err(file_error(
                    files[id].path(),
                    format!(
                        "tensor `{tensor}` is listed in {} but missing from this shard",
                        path.display()
                    ),
                ));
            }
            index.insert(tensor.clone(), id);
        }
        Ok(WeightStore {
            origin: path.to_path_buf(),
            files,
            index,
        })
    }

    /// The file or index this store was opened from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Names of every tensor, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the checkpoint holds no tensors.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether the checkpoint holds a tensor called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The type of tensor `name` without reading its data.
    pub fn tensor_type(&self, name: &str) -> Result<TensorType> {
        self.file_of(name)?.tensor_type(name)
    }

    /// Reads tensor `name` into host memory.
    pub fn load(&self, name: &str) -> Result<HostTensor> {
        self.file_of(name)?.load(name)
    }

    /// Reads every tensor into host memory.
    pub fn load_all(&self) -> Result<BTreeMap<String, HostTensor>> {
        self.names()
            .map(|n| Ok((n.to_string(), self.load(n)?)))
            .collect()
    }

    fn file_of(&self, name: &str) -> Result<&SafetensorsFile> {
        self.index
            .get(name)
            .map(|&i| &self.files[i])
            .ok_or_else(|| file_error(&self.origin, format!("no tensor named `{name}`")))
    }
}

/// Reads every tensor of a checkpoint (see [`WeightStore::open`]) into host memory.
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<BTreeMap<String, HostTensor>> {
    WeightStore::open(path)?.load_all()
}

/// A host tensor as seen by the safetensors serializer.
struct TensorBytes {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for TensorBytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn safetensors_dtype(d: DType) -> Dtype {
    match d {
        DType::F32 => Dtype::F32,
        DType::F16 => Dtype::F16,
        DType::BF16 => Dtype::BF16,
        DType::I32 => Dtype::I32,
        DType::I64 => Dtype::I64,
        DType::Bool => Dtype::BOOL,
    }
}

/// Writes `tensors` to `path` atomically: the bytes go to a temporary file in the same
/// directory, which is renamed over `path` only once it is complete and flushed.
pub fn write_safetensors<'a>(
    path: impl AsRef<Path>,
    tensors: impl IntoIterator<Item = (&'a str, &'a HostTensor)>,
) -> Result<()> {
    let path = path.as_ref();
    let views = tensors.into_iter().map(|(name, t)| {
        (
            name,
            TensorBytes {
                dtype: safetensors_dtype(t.dtype()),
                shape: t.shape().dims().to_vec(),
                bytes: t.data().to_le_bytes(),
            },
        )
    });
    let bytes = safetensors::serialize(views, None)
        .map_err(|e| file_error(path, format!("cannot serialize tensors: {e}")))?;
    hyv_ir::write_atomic(path, &bytes).map_err(|e| file_error(path, format!("cannot write: {e}")))
}
