fn expansion() {
    let _ = {
        use ::nnx::__private::BatchView as _;
        let __nnx_stack = &mut (ensemble);
        __nnx_stack
            .__first()
            .__nnx_vmap()
            .__stacked(__nnx_stack)
            .run(::nnx::__private::Mapped((xs).__nnx_batch_view(), 0isize))
    };
}
