//! `Embed`, as `flax.nnx.Embed`: a table of `num_embeddings` vectors of `features`.

use ndarray::{Array2, ArrayD, ArrayViewD, Dimension, Ix2, IxDyn};

use crate::init::{Initializer, variance_scaling_embed};
use crate::matmul::matmul;
use crate::{ForwardError, Param, Rngs, module};

/// An embedding table. `embedding` is `[num_embeddings, features]`, initialized as Flax's
/// `default_embed_init` (variance scaling 1 over fan-in = `features`, normal).
///
/// Indices are `i64`. A negative index `-n ≤ i < 0` counts from the end, as in Flax. An
/// index out of range is a `ForwardError` naming it and its position, where Flax
/// silently returns a row of NaN. As in Flax, a table of one row (`num_embeddings == 1`)
/// returns that row for every index, whatever its value.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct Embed {
    /// The table, `[num_embeddings, features]`.
    pub embedding: Param<Array2<f32>>,
}

impl Embed {
    /// A table of `num_embeddings` rows of `features`, drawn from the `params` stream.
    pub fn new(num_embeddings: usize, features: usize, rngs: &mut Rngs) -> Self {
        Self::with_init(num_embeddings, features, &variance_scaling_embed(), rngs)
    }

    /// With another initializer, as Flax's `embedding_init`.
    pub fn with_init(
        num_embeddings: usize,
        features: usize,
        init: &dyn Initializer,
        rngs: &mut Rngs,
    ) -> Self {
        let table = init
            .init(&mut rngs.params(), &[num_embeddings, features])
            .into_dimensionality::<Ix2>()
            .expect("an initializer returns the requested rank");
        Self {
            embedding: Param::new(table),
        }
    }

    /// The number of rows (`num_embeddings`).
    pub fn num_embeddings(&self) -> usize {
        self.embedding.nrows()
    }

    /// The length of each row (`features`).
    pub fn features(&self) -> usize {
        self.embedding.ncols()
    }

    fn row_of(&self, index: i64, position: &[usize]) -> Result<usize, ForwardError> {
        let rows = self.num_embeddings();
        let wrapped = if index < 0 {
            index + rows as i64
        } else {
            index
        };
        match usize::try_from(wrapped) {
            Ok(row) if row < rows => Ok(row),
            _ if rows == 1 => Ok(0),
            _ => Err(ForwardError::Index {
                module: "Embed",
                arg: "inputs",
                index,
                position: position.to_vec(),
                len: rows,
            }),
        }
    }
}

#[module]
impl Embed {
    /// Looks up every index: `inputs` of shape `[..]` gives `[.., features]`.
    #[call]
    pub fn forward(&self, inputs: ArrayViewD<'_, i64>) -> Result<ArrayD<f32>, ForwardError> {
        let features = self.features();
        let mut data = Vec::with_capacity(inputs.len() * features);
        for (position, &index) in inputs.indexed_iter() {
            let row = self.row_of(index, position.slice())?;
            data.extend(self.embedding.row(row).iter());
        }
        let mut shape = inputs.shape().to_vec();
        shape.push(features);
        Ok(ArrayD::from_shape_vec(IxDyn(&shape), data).expect("one row per index"))
    }

    /// Scores `query` against every row, `query · embeddingᵀ` (Flax's `attend`, used to
    /// tie input and output embeddings): `[.., features]` gives `[.., num_embeddings]`.
    pub fn attend(&self, query: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let features = self.features();
        let Some((&last, leading)) = query.shape().split_last() else {
            return Err(self.query_error(&query));
        };
        if last != features {
            return Err(self.query_error(&query));
        }
        let rows: usize = leading.iter().product();
        let matrix = query
            .to_shape((rows, features))
            .map_err(|_| self.query_error(&query))?;
        let scores = matmul(matrix.view(), self.embedding.t());
        let mut shape = leading.to_vec();
        shape.push(self.num_embeddings());
        Ok(scores
            .into_shape_with_order(IxDyn(&shape))
            .expect("rows × num_embeddings elements"))
    }
}

impl Embed {
    fn query_error(&self, query: &ArrayViewD<'_, f32>) -> ForwardError {
        ForwardError::Shape {
            module: "Embed",
            arg: "query",
            found: query.shape().to_vec(),
            expected: format!("Embed::attend expects [.., {}] (features)", self.features()),
        }
    }
}
