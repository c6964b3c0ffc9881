pub struct Block {
    norm: LayerNorm,
    layers: Vec<Linear>,
    gate: Param<Array1<f32>>,
    name: String,
}
impl ::nnx::Node for Block {
    fn walk(&self, path: &mut ::nnx::Path, visitor: &mut dyn ::nnx::Visit) {
        path.with(
            ::nnx::Segment::Field("norm"),
            |path| <LayerNorm as ::nnx::Node>::walk(&self.norm, path, visitor),
        );
        path.with(
            ::nnx::Segment::Field("layers"),
            |path| <Vec<Linear> as ::nnx::Node>::walk(&self.layers, path, visitor),
        );
        path.with(
            ::nnx::Segment::Field("gate"),
            |path| <Param<Array1<f32>> as ::nnx::Node>::walk(&self.gate, path, visitor),
        );
    }
    fn walk_mut(&mut self, path: &mut ::nnx::Path, visitor: &mut dyn ::nnx::VisitMut) {
        path.with(
            ::nnx::Segment::Field("norm"),
            |path| <LayerNorm as ::nnx::Node>::walk_mut(&mut self.norm, path, visitor),
        );
        path.with(
            ::nnx::Segment::Field("layers"),
            |path| <Vec<
                Linear,
            > as ::nnx::Node>::walk_mut(&mut self.layers, path, visitor),
        );
        path.with(
            ::nnx::Segment::Field("gate"),
            |path| <Param<
                Array1<f32>,
            > as ::nnx::Node>::walk_mut(&mut self.gate, path, visitor),
        );
    }
    fn set_training(&mut self, training: bool) {
        <LayerNorm as ::nnx::Node>::set_training(&mut self.norm, training);
        <Vec<Linear> as ::nnx::Node>::set_training(&mut self.layers, training);
        <Param<Array1<f32>> as ::nnx::Node>::set_training(&mut self.gate, training);
    }
}
impl ::nnx::Module for Block {
    const NAME: &'static str = "Block";
}
