//! The tract engine: any ONNX graph, optimised for each batch size used.
//!
//! tract optimises much better for concrete shapes than for a symbolic
//! batch size, so the model is kept with a symbolic batch (checked once at
//! load) and a plan is compiled, then cached, for each batch size actually
//! run. Built only with the `tract` feature (on by default; the browser's
//! build leaves it out and runs the direct engine alone).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tract_onnx::pb::ModelProto;
use tract_onnx::prelude::*;

use crate::description::{Layout, ModelDescription};
use crate::error::ModelError;

type Plan = Arc<TypedRunnableModel>;

/// A model on tract, with its plans per batch size.
pub(crate) struct TractModel {
    proto: ModelProto,
    description: ModelDescription,
    labels: usize,
    plans: Mutex<HashMap<usize, Plan>>,
}

impl TractModel {
    /// Reads `bytes` with tract, checks the graph against `description`
    /// (one score per each of `labels`) for any batch size, and compiles
    /// the single-face plan, so errors surface at load time.
    pub fn load(
        bytes: &[u8],
        description: &ModelDescription,
        labels: usize,
    ) -> Result<Self, ModelError> {
        let onnx = tract_onnx::onnx();
        let proto = onnx
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| ModelError::NotOnnx(e.into()))?;
        build_model(&onnx, &proto, description, labels, None)?;
        let model = TractModel {
            proto,
            description: description.clone(),
            labels,
            plans: Mutex::new(HashMap::new()),
        };
        model.plan_for(1)?;
        Ok(model)
    }

    /// Runs an input tensor of `shape` (batch first): the flat output.
    pub fn run(&self, data: &[f32], shape: [usize; 4]) -> Result<Vec<f32>, ModelError> {
        let tensor =
            Tensor::from_shape(&shape, data).map_err(|e| ModelError::Inference(e.into()))?;
        let outputs = self
            .plan_for(shape[0])?
            .run(tvec!(tensor.into()))
            .map_err(|e| ModelError::Inference(e.into()))?;
        let out = outputs[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| ModelError::Inference(e.into()))?;
        Ok(out.iter().copied().collect())
    }

    /// The optimised plan for batches of `n` faces.
    fn plan_for(&self, n: usize) -> Result<Plan, ModelError> {
        let cached = self
            .plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&n)
            .cloned();
        if let Some(plan) = cached {
            return Ok(plan);
        }
        let model = build_model(
            &tract_onnx::onnx(),
            &self.proto,
            &self.description,
            self.labels,
            Some(n),
        )?;
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| ModelError::Mismatch(e.into()))?;
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(n, Arc::clone(&plan));
        Ok(plan)
    }
}

/// Fixes the input to the description's shape, with batch size `batch`
/// (symbolic when `None`), and checks the output is one score per label.
fn build_model(
    onnx: &tract_onnx::Onnx,
    proto: &ModelProto,
    desc: &ModelDescription,
    labels: usize,
    batch: Option<usize>,
) -> Result<TypedModel, ModelError> {
    let mismatch = |e: TractError| ModelError::Mismatch(e.into());
    let mut model = onnx
        .model_for_proto_model(proto)
        .map_err(|e| ModelError::NotOnnx(e.into()))?;
    if model.inputs.len() != 1 {
        return Err(ModelError::Mismatch(
            format!("expected 1 input, the model has {}", model.inputs.len()).into(),
        ));
    }
    let batch: TDim = match batch {
        Some(n) => (n as i64).into(),
        None => model.symbols.sym("N").into(),
    };
    let (w, h, c) = (
        desc.input.width as i64,
        desc.input.height as i64,
        desc.input.channels as i64,
    );
    let dims: [TDim; 4] = match desc.input.layout {
        Layout::Nchw => [batch.clone(), c.into(), h.into(), w.into()],
        Layout::Nhwc => [batch.clone(), h.into(), w.into(), c.into()],
    };
    model
        .set_input_fact(0, f32::fact(dims).into())
        .map_err(mismatch)?;
    let typed = model.into_typed().map_err(mismatch)?;
    let out_shape = typed.output_fact(0).map_err(mismatch)?.shape.clone();
    let last = out_shape.last().and_then(|d| d.to_i64().ok());
    if out_shape.rank() != 2 || last != Some(labels as i64) {
        return Err(ModelError::Mismatch(
            format!("output shape is {out_shape:?}, expected [N, {labels}] (one score per label)")
                .into(),
        ));
    }
    Ok(typed)
}
