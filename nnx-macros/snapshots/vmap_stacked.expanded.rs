fn expansion() {
    let _ = {
        use ::nnx::__private::MapArg as _;
        use ::nnx::__private::StackedReceiver as _;
        let stack = &mut (ensemble);
        stack
            .__nnx_first()
            .__nnx_vmap()
            .__stacked(stack)
            .__run((&(xs), 0isize).__nnx_mapped())
    };
}
