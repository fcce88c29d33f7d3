//! A `Session` compiles once per input signature, uploads weights once and gives the same
//! results as one-shot `Runner::run` calls, in both modes.

mod common;
use common::f32s;
use hyv_backend_reference::ReferenceBackend;
use hyv_frontend::{
    nn::Linear, FnModel, HostTensor, Mode, Model, Module, Runner, Session, Weights,
};
use std::rc::Rc;
use std::sync::Arc;

fn mlp() -> Rc<dyn Model> {
    Rc::new(FnModel::new("mlp", |p, x| {
        let fc = Linear::new(&p.sub("fc"), 3, 2, true)?;
        Ok(vec![fc.forward(&x[0])?.gelu()?])
    }))
}

fn input(rows: usize, offset: f32) -> Vec<(String, HostTensor)> {
    let values: Vec<f32> = (0..rows * 3).map(|i| i as f32 * 0.25 - offset).collect();
    vec![("x".to_string(), f32s(&[rows, 3], &values))]
}

#[test]
fn session_matches_one_shot_runs_and_compiles_once_per_signature() {
    let weights = Weights::Random { seed: 3 };
    for mode in [Mode::Eager, Mode::Graph] {
        let backend = Arc::new(ReferenceBackend::new());
        let session = Session::new(Runner::new(mode, backend.clone()), mlp(), weights.clone());
        let one_shot = Runner::new(mode, backend);
        for (rows, offset) in [(2, 0.0), (2, 1.5), (5, 0.5), (2, 3.0)] {
            let inputs = input(rows, offset);
            let expected = one_shot.run(&*mlp(), &weights, &inputs).unwrap().outputs;
            assert_eq!(
                session.run(&inputs).unwrap(),
                expected,
                "{mode}: rows {rows}"
            );
        }
        let compiled = if mode == Mode::Graph { 2 } else { 0 };
        assert_eq!(session.compilations(), compiled, "{mode}");
    }
}

#[test]
fn session_reports_bad_inputs_like_the_runner() {
    let session = Session::new(
        Runner::new(Mode::Graph, Arc::new(ReferenceBackend::new())),
        mlp(),
        Weights::Random { seed: 3 },
    );
    let bad = vec![("x".to_string(), f32s(&[2, 4], &[0.0; 8]))];
    let err = session.run(&bad).unwrap_err().to_string();
    assert!(err.contains("[2,4]"), "{err}");
    assert_eq!(session.compilations(), 0);
}
