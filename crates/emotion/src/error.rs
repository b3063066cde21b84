//! Why a model could not be loaded or run: shared by the classifier and
//! the tract engine.

use std::path::PathBuf;

use crate::description::DescriptionError;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model file could not be read.
    #[error("cannot read model file")]
    Io(#[source] std::io::Error),
    /// The file is larger than any model Melodora loads.
    #[error("model file is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The largest size accepted.
        max: u64,
    },
    /// The bytes are not an ONNX model (tract's error is the source).
    #[error("not an ONNX model")]
    NotOnnx(#[source] BoxError),
    /// The description (given, sidecar or embedded) is invalid.
    #[error(transparent)]
    Description(#[from] DescriptionError),
    /// The JSON description beside the model could not be read or is wrong.
    #[error("model description {}", path.display())]
    Sidecar {
        /// The sidecar file.
        path: PathBuf,
        /// Why it was refused.
        #[source]
        source: SidecarError,
    },
    #[error(
        "the model carries no description: give one with a JSON sidecar (model.onnx.json), \
         --description FILE or the input/label options"
    )]
    /// No description was given and the model embeds none.
    NoDescription,
    /// The graph does not take the described input or give one score per label.
    #[error("model does not fit its description")]
    Mismatch(#[source] BoxError),
    /// Running the model failed, or it produced scores that are not
    /// probabilities.
    #[error("inference failed")]
    Inference(#[source] BoxError),
    /// The direct engine does not run the graph and this build has no
    /// other (built without the `tract` feature, as for the browser).
    #[error("this build runs only the direct engine, which does not take this model")]
    NeedsTract(#[source] BoxError),
}

/// What caused a [`ModelError`]: tract's errors (kept with their own
/// causes), or Melodora's message where the check is its own.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a sidecar description was refused.
#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    /// The file exists but could not be read.
    #[error("cannot read it")]
    Io(#[source] std::io::Error),
    /// The file's JSON is not a valid description.
    #[error(transparent)]
    Invalid(#[from] DescriptionError),
}
