fn expansion() {
    let _ = {
        let stack = &mut (ensemble);
        ::nnx::__private::CallMethod::vmap(
                ::nnx::__private::ModuleMethods::same(
                    ::nnx::__private::StackedReceiver::first(&*stack),
                ),
            )
            .call()
            .__stacked(stack)
            .__run(::nnx::__private::Slot::Mapped {
                batched: ::nnx::__private::IntoArg::into_arg(
                    ::nnx::__private::BatchView::view_of(&(xs)),
                ),
                axis: 0isize,
            })
    };
}
