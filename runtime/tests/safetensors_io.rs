//! Safetensors reading and writing: round trips of every dtype, sharded checkpoints, and
//! the errors for missing, truncated and unsupported files and tensors.

use half::{bf16, f16};
use hyv_ir::{DType, HostTensor, TensorData, TensorType};
use hyv_runtime::{read_safetensors, write_safetensors, Error, SafetensorsFile, WeightStore};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A fresh, empty directory under the system temp dir, unique per test.
fn temp_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hyv-st-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sample_tensors() -> BTreeMap<String, HostTensor> {
    let mut m = BTreeMap::new();
    let mut put = |name: &str, shape: Vec<usize>, data: TensorData| {
        m.insert(name.to_string(), HostTensor::new(shape, data).unwrap());
    };
    put(
        "a.f32",
        vec![2, 3],
        TensorData::F32(vec![1.0, -2.5, 3.0, 4.0, 5.5, -6.0]),
    );
    put(
        "b.f16",
        vec![2],
        TensorData::F16(vec![f16::from_f32(0.5), f16::from_f32(-1.0)]),
    );
    put(
        "c.bf16",
        vec![1, 2],
        TensorData::BF16(vec![bf16::from_f32(2.0), bf16::from_f32(3.0)]),
    );
    put("d.i32", vec![3], TensorData::I32(vec![1, -2, 3]));
    put("e.i64", vec![], TensorData::I64(vec![1 << 40]));
    put(
        "f.bool",
        vec![2, 2],
        TensorData::Bool(vec![true, false, false, true]),
    );
    m
}

fn write(path: &std::path::Path, tensors: &BTreeMap<String, HostTensor>) {
    write_safetensors(path, tensors.iter().map(|(k, v)| (k.as_str(), v))).unwrap();
}

fn message(e: Error) -> String {
    match &e {
        Error::File { .. } => e.to_string(),
        other => panic!("expected a file error, got {other:?}"),
    }
}

#[test]
fn every_dtype_round_trips() {
    let dir = temp_dir("roundtrip");
    let path = dir.join("model.safetensors");
    let tensors = sample_tensors();
    write(&path, &tensors);
    assert_eq!(read_safetensors(&path).unwrap(), tensors);
    let file = SafetensorsFile::open(&path).unwrap();
    assert_eq!(file.names(), tensors.keys().cloned().collect::<Vec<_>>());
    assert_eq!(
        file.tensor_type("a.f32").unwrap(),
        TensorType::new(DType::F32, [2, 3])
    );
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn sharded_checkpoint_reads_through_the_index() {
    let dir = temp_dir("sharded");
    let all = sample_tensors();
    let (first, second): (BTreeMap<_, _>, BTreeMap<_, _>) = all
        .clone()
        .into_iter()
        .partition(|(k, _)| k < &"c".to_string());
    write(&dir.join("m-00001-of-00002.safetensors"), &first);
    write(&dir.join("m-00002-of-00002.safetensors"), &second);
    let weight_map: serde_json::Map<String, serde_json::Value> = all
        .keys()
        .map(|k| {
            let shard = if first.contains_key(k) {
                "m-00001-of-00002.safetensors"
            } else {
                "m-00002-of-00002.safetensors"
            };
            (k.clone(), serde_json::Value::from(shard))
        })
        .collect();
    let index = serde_json::json!({ "metadata": {}, "weight_map": weight_map });
    std::fs::write(
        dir.join("m.safetensors.index.json"),
        serde_json::to_string(&index).unwrap(),
    )
    .unwrap();
    // Opening the directory finds the index.
    let store = WeightStore::open(&dir).unwrap();
    assert_eq!(store.len(), all.len());
    assert_eq!(store.load_all().unwrap(), all);
    assert_eq!(store.load("d.i32").unwrap(), all["d.i32"]);
}

#[test]
fn missing_file_is_named() {
    let dir = temp_dir("missing-file");
    let path = dir.join("absent.safetensors");
    let msg = message(WeightStore::open(&path).err().unwrap());
    assert!(msg.contains("absent.safetensors"), "{msg}");
}

#[test]
fn truncated_file_is_reported_as_corrupt() {
    let dir = temp_dir("truncated");
    let path = dir.join("cut.safetensors");
    write(&path, &sample_tensors());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let msg = message(SafetensorsFile::open(&path).err().unwrap());
    assert!(msg.contains("cut.safetensors"), "{msg}");
    assert!(msg.contains("truncated or corrupt"), "{msg}");
    // A file cut inside its header is also an error, not a panic.
    std::fs::write(&path, &bytes[..5]).unwrap();
    assert!(SafetensorsFile::open(&path).is_err());
}

#[test]
fn missing_tensor_names_file_and_tensor() {
    let dir = temp_dir("missing-tensor");
    let path = dir.join("w.safetensors");
    write(&path, &sample_tensors());
    let store = WeightStore::open(&path).unwrap();
    let msg = message(store.load("blocks.0.weight").err().unwrap());
    assert!(msg.contains("w.safetensors"), "{msg}");
    assert!(msg.contains("`blocks.0.weight`"), "{msg}");
}

#[test]
fn unsupported_dtype_names_the_tensor() {
    let dir = temp_dir("f64");
    let path = dir.join("f64.safetensors");
    // Header for one f64 scalar, followed by its 8 bytes.
    let header = br#"{"x.weight":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#;
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header);
    bytes.extend_from_slice(&1.5f64.to_le_bytes());
    std::fs::write(&path, bytes).unwrap();
    let file = SafetensorsFile::open(&path).unwrap();
    let msg = message(file.load("x.weight").err().unwrap());
    assert!(
        msg.contains("f64.safetensors") && msg.contains("`x.weight`"),
        "{msg}"
    );
    assert!(msg.contains("F64"), "{msg}");
}
