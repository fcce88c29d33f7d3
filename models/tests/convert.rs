//! `convert_transformer` (official Tencent DiT names → diffusers names) and `convert_vae`.

use hyv_frontend::HostTensor;
use hyv_models::convert::{convert_transformer, convert_vae};
use std::collections::BTreeMap;

/// A tensor whose rows are numbered `0..rows` (each row filled with its index).
fn numbered(rows: usize, cols: usize) -> HostTensor {
    let v = (0..rows * cols).map(|i| (i / cols) as f32).collect();
    HostTensor::from_f32([rows, cols], v).unwrap()
}

fn first_col(t: &HostTensor) -> Vec<f32> {
    let cols = t.shape().dims()[1];
    t.to_f32_vec().into_iter().step_by(cols).collect()
}

#[test]
fn fused_weights_are_split_and_final_halves_swapped() {
    let h = 4;
    let mut official = BTreeMap::new();
    official.insert(
        "module.double_blocks.0.img_attn_qkv.weight".to_string(),
        numbered(3 * h, 2),
    );
    official.insert(
        "single_blocks.1.linear1.weight".to_string(),
        numbered(3 * h + 8, 2),
    );
    official.insert(
        "single_blocks.1.linear2.weight".to_string(),
        numbered(h, h + 8),
    );
    official.insert(
        "final_layer.adaLN_modulation.1.bias".to_string(),
        HostTensor::from_f32([4], vec![1., 2., 3., 4.]).unwrap(),
    );
    official.insert(
        "txt_in.individual_token_refiner.blocks.1.mlp.fc2.bias".to_string(),
        numbered(2, 1),
    );
    official.insert("time_in.mlp.2.weight".to_string(), numbered(2, 2));
    let out = convert_transformer(official).unwrap();

    assert_eq!(
        first_col(&out["transformer_blocks.0.attn.to_q.weight"]),
        vec![0., 1., 2., 3.]
    );
    assert_eq!(
        first_col(&out["transformer_blocks.0.attn.to_k.weight"]),
        vec![4., 5., 6., 7.]
    );
    assert_eq!(
        first_col(&out["transformer_blocks.0.attn.to_v.weight"]),
        vec![8., 9., 10., 11.]
    );
    assert_eq!(
        first_col(&out["single_transformer_blocks.1.attn.to_v.weight"]),
        vec![8., 9., 10., 11.]
    );
    assert_eq!(
        out["single_transformer_blocks.1.proj_mlp.weight"]
            .shape()
            .dims(),
        &[8, 2]
    );
    assert_eq!(
        first_col(&out["single_transformer_blocks.1.proj_mlp.weight"])[0],
        12.
    );
    assert!(out.contains_key("single_transformer_blocks.1.proj_out.weight"));
    // Official shift-first → diffusers scale-first.
    assert_eq!(
        out["norm_out.linear.bias"].to_f32_vec(),
        vec![3., 4., 1., 2.]
    );
    assert!(out.contains_key("context_embedder.token_refiner.refiner_blocks.1.ff.net.2.bias"));
    assert!(out.contains_key("time_text_embed.timestep_embedder.linear_2.weight"));
    assert_eq!(out.len(), 11);
}

#[test]
fn unknown_names_are_listed() {
    let mut official = BTreeMap::new();
    official.insert(
        "double_blocks.0.img_mod.linear.weight".to_string(),
        numbered(2, 2),
    );
    official.insert("double_blocks.0.mystery.weight".to_string(), numbered(2, 2));
    official.insert("vae.decoder.conv.weight".to_string(), numbered(2, 2));
    let err = convert_transformer(official).unwrap_err().to_string();
    assert!(
        err.contains("2 tensors") && err.contains("double_blocks.0.mystery.weight"),
        "{err}"
    );
    assert!(err.contains("vae.decoder.conv.weight"), "{err}");
}

#[test]
fn a_fused_weight_that_does_not_split_is_an_error() {
    let mut official = BTreeMap::new();
    official.insert(
        "double_blocks.2.txt_attn_qkv.weight".to_string(),
        numbered(7, 2),
    );
    let err = convert_transformer(official).unwrap_err().to_string();
    assert!(
        err.contains("double_blocks.2.txt_attn_qkv.weight") && err.contains("3 parts"),
        "{err}"
    );
}

#[test]
fn official_vae_keys_lose_their_vae_prefix_and_foreign_tensors_are_listed() {
    let mut official = BTreeMap::new();
    for key in [
        "vae.encoder.conv_in.conv.weight",
        "module.vae.decoder.conv_out.conv.bias",
        "quant_conv.weight",
        "post_quant_conv.bias",
    ] {
        official.insert(key.to_string(), numbered(2, 2));
    }
    let converted = convert_vae(official.clone()).unwrap();
    let names: Vec<_> = converted.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "decoder.conv_out.conv.bias",
            "encoder.conv_in.conv.weight",
            "post_quant_conv.bias",
            "quant_conv.weight"
        ]
    );
    assert_eq!(
        converted["quant_conv.weight"],
        official["quant_conv.weight"]
    );

    official.insert(
        "double_blocks.0.img_mod.linear.weight".into(),
        numbered(2, 2),
    );
    let err = convert_vae(official).unwrap_err().to_string();
    assert!(
        err.contains("1 tensors") && err.contains("double_blocks.0.img_mod.linear.weight"),
        "{err}"
    );
}
