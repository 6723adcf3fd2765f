//! Autoref specialisation behind `outcome!`: generated code cannot know whether a function's
//! return type is a `Result`, or what its error implements, so method resolution picks the most
//! specific impl: `std::error::Error` (with the source chain), else `Display`, else `Debug`,
//! else "not an error".

use pathwise_model::ErrorInfo;

/// Wraps the value being inspected.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

pub trait ErrKind {
    fn pathwise_outcome(&self) -> Option<ErrorInfo>;
}
pub trait ResultDisplayKind {
    fn pathwise_outcome(&self) -> Option<ErrorInfo>;
}
pub trait ResultDebugKind {
    fn pathwise_outcome(&self) -> Option<ErrorInfo>;
}
pub trait OtherKind {
    fn pathwise_outcome(&self) -> Option<ErrorInfo>;
}

fn described<E: ?Sized>(message: String) -> ErrorInfo {
    ErrorInfo {
        error_type: std::any::type_name::<E>().into(),
        message,
        chain: Vec::new(),
    }
}

impl<T, E: std::error::Error> ErrKind for &&&Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<ErrorInfo> {
        self.0.as_ref().err().map(|e| ErrorInfo::from_error(e))
    }
}
impl<T, E: std::fmt::Display> ResultDisplayKind for &&Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<ErrorInfo> {
        self.0.as_ref().err().map(|e| described::<E>(e.to_string()))
    }
}
impl<T, E: std::fmt::Debug> ResultDebugKind for &Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<ErrorInfo> {
        self.0
            .as_ref()
            .err()
            .map(|e| described::<E>(format!("{e:?}")))
    }
}
impl<T: ?Sized> OtherKind for Probe<'_, T> {
    fn pathwise_outcome(&self) -> Option<ErrorInfo> {
        None
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct DebugOnly;

    #[test]
    fn picks_the_most_specific_description() {
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("boom"));
        let info = crate::outcome!(&io).unwrap();
        assert_eq!(
            (info.error_type.as_ref(), info.message.as_str()),
            ("std::io::error::Error", "boom")
        );
        let text: Result<u8, String> = Err("bad".into());
        assert_eq!(crate::outcome!(&text).unwrap().message, "bad");
        let debug: Result<u8, DebugOnly> = Err(DebugOnly);
        assert_eq!(crate::outcome!(&debug).unwrap().message, "DebugOnly");
        let fine: Result<u8, String> = Ok(1);
        assert!(crate::outcome!(&fine).is_none());
        assert!(crate::outcome!(&42).is_none());
    }
}
