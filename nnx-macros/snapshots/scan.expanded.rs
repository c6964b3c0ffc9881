fn expansion() {
    let _ = 'scan: {
        let kw_mask = m.view();
        trait __NnxStackede0edb56f145341e7 {
            fn __nnx_stacked_e0edb56f145341e7(self) -> Self;
        }
        impl<
            M: ::nnx::__private::SharedMethod<::nnx::__private::CallName>,
        > __NnxStackede0edb56f145341e7 for &::nnx::__private::Stacked<M> {
            #[inline]
            fn __nnx_stacked_e0edb56f145341e7(self) -> Self {
                self
            }
        }
        impl<T: ?::core::marker::Sized> __NnxStackede0edb56f145341e7 for &mut T {
            #[inline]
            fn __nnx_stacked_e0edb56f145341e7(self) -> Self {
                self
            }
        }
        let stack = (layers).__nnx_stacked_e0edb56f145341e7();
        let mut stack = ::nnx::__private::ScanStack::scan_members(stack);
        let mut carry = match ::nnx::call!(
            ((* ::nnx::__private::ScanMembers::member(& mut stack, 0))) (x.view(), mask =
            ::core::clone::Clone::clone(& kw_mask))
        ) {
            ::core::result::Result::Ok(output) => output,
            ::core::result::Result::Err(error) => {
                break 'scan ::core::result::Result::Err(error);
            }
        };
        for index in 1..::nnx::__private::ScanMembers::members(&stack) {
            carry = match ::nnx::call!(
                ((* ::nnx::__private::ScanMembers::member(& mut stack, index))) (& carry,
                mask = ::core::clone::Clone::clone(& kw_mask))
            ) {
                ::core::result::Result::Ok(output) => output,
                ::core::result::Result::Err(error) => {
                    break 'scan ::core::result::Result::Err(error);
                }
            };
        }
        ::core::result::Result::Ok(carry)
    };
}
