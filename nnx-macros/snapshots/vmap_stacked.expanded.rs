fn expansion() {
    let _ = {
        use ::nnx::__private::BatchView as _;
        let stack = &mut (ensemble);
        stack
            .__first()
            .__nnx_vmap()
            .__stacked(stack)
            .__run(::nnx::__private::Mapped((xs).__nnx_batch_view(), 0isize))
    };
}
