//! Autoref specialisation behind `outcome!`: generated code cannot know whether a function's
//! return type is a `Result`, or what its error implements, so method resolution picks the most
//! specific impl: [`ErrorKind`](crate::ErrorKind) (the user's own name for the error), else
//! `std::error::Error` (with the source chain), else `Display`, else `Debug`, else "not an
//! error". Every error is named by [`pathwise_model::error_identity`] unless the user chose.

use pathwise_model::{ErrorInfo, error_identity, short_type_name};

/// Your own name for an error, used instead of its type and variant: implement it to group
/// errors the way you think of them (by status class, by retryability). `#[monitor]` picks it
/// up for `Result<_, E>` without further options.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("upstream answered {status}")]
/// struct Upstream { status: u16 }
///
/// impl pathwise::ErrorKind for Upstream {
///     fn error_kind(&self) -> std::borrow::Cow<'static, str> {
///         if self.status >= 500 { "Upstream5xx".into() } else { "Upstream4xx".into() }
///     }
/// }
///
/// #[pathwise::monitor]
/// fn fetch() -> Result<(), Upstream> { Err(Upstream { status: 503 }) }
/// # let _ = fetch();
/// ```
pub trait ErrorKind: std::error::Error {
    /// The name this error is grouped by.
    fn error_kind(&self) -> std::borrow::Cow<'static, str>;
}

/// Wraps the value being inspected.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// A failed call: what is recorded, and the error's full type path (kept as an attribute).
pub struct Failure {
    pub info: ErrorInfo,
    pub type_path: &'static str,
}

impl Failure {
    fn of<E>(info: ErrorInfo) -> Self {
        Failure {
            info,
            type_path: std::any::type_name::<E>(),
        }
    }
}

pub trait KindKind {
    fn pathwise_outcome(&self) -> Option<Failure>;
}
pub trait ErrKind {
    fn pathwise_outcome(&self) -> Option<Failure>;
}
pub trait ResultDisplayKind {
    fn pathwise_outcome(&self) -> Option<Failure>;
}
pub trait ResultDebugKind {
    fn pathwise_outcome(&self) -> Option<Failure>;
}
pub trait OtherKind {
    fn pathwise_outcome(&self) -> Option<Failure>;
}

impl<T, E: ErrorKind> KindKind for &&&&Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<Failure> {
        self.0.as_ref().err().map(|e| {
            let mut info = ErrorInfo::from_error(e);
            info.error_type = e.error_kind();
            Failure::of::<E>(info)
        })
    }
}
impl<T, E: std::error::Error> ErrKind for &&&Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<Failure> {
        self.0
            .as_ref()
            .err()
            .map(|e| Failure::of::<E>(ErrorInfo::from_error(e)))
    }
}
impl<T, E: std::fmt::Display> ResultDisplayKind for &&Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<Failure> {
        self.0.as_ref().err().map(|e| {
            let name = short_type_name(std::any::type_name::<E>());
            Failure::of::<E>(described(name, e.to_string()))
        })
    }
}
impl<T, E: std::fmt::Debug> ResultDebugKind for &Probe<'_, Result<T, E>> {
    fn pathwise_outcome(&self) -> Option<Failure> {
        self.0
            .as_ref()
            .err()
            .map(|e| Failure::of::<E>(described(error_identity(e), format!("{e:?}"))))
    }
}
impl<T: ?Sized> OtherKind for Probe<'_, T> {
    fn pathwise_outcome(&self) -> Option<Failure> {
        None
    }
}

fn described(error_type: String, message: String) -> ErrorInfo {
    ErrorInfo {
        error_type: error_type.into(),
        message,
        chain: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug)]
    struct DebugOnly;

    #[derive(Debug, thiserror::Error)]
    enum OpenAlexError {
        #[error("rate limited, retry in {0} s")]
        RateLimit(u32),
        #[error("timed out")]
        Timeout,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("upstream said {status}")]
    struct Upstream {
        status: u16,
    }

    impl crate::ErrorKind for Upstream {
        fn error_kind(&self) -> std::borrow::Cow<'static, str> {
            if self.status >= 500 {
                "Upstream5xx".into()
            } else {
                "Upstream4xx".into()
            }
        }
    }

    #[test]
    fn picks_the_most_specific_description() {
        let io: Result<(), std::io::Error> = Err(std::io::Error::other("boom"));
        let failure = crate::outcome!(&io).unwrap();
        assert_eq!(
            (
                failure.info.error_type.as_ref(),
                failure.info.message.as_str()
            ),
            ("io::Error", "boom")
        );
        assert_eq!(failure.type_path, "std::io::error::Error");
        let text: Result<u8, String> = Err("bad".into());
        assert_eq!(crate::outcome!(&text).unwrap().info.message, "bad");
        let debug: Result<u8, DebugOnly> = Err(DebugOnly);
        let failure = crate::outcome!(&debug).unwrap();
        assert_eq!(failure.info.message, "DebugOnly");
        assert_eq!(failure.info.error_type, "DebugOnly");
        let fine: Result<u8, String> = Ok(1);
        assert!(crate::outcome!(&fine).is_none());
        assert!(crate::outcome!(&42).is_none());
    }

    #[test]
    fn enum_variants_are_different_errors() {
        let limited: Result<(), OpenAlexError> = Err(OpenAlexError::RateLimit(2));
        let timeout: Result<(), OpenAlexError> = Err(OpenAlexError::Timeout);
        let limited = crate::outcome!(&limited).unwrap();
        let timeout = crate::outcome!(&timeout).unwrap();
        assert_eq!(limited.info.error_type, "OpenAlexError::RateLimit");
        assert_eq!(limited.info.message, "rate limited, retry in 2 s");
        assert_eq!(timeout.info.error_type, "OpenAlexError::Timeout");
        assert!(timeout.type_path.ends_with("::OpenAlexError"));
    }

    #[test]
    fn a_chosen_kind_wins() {
        let failed: Result<(), Upstream> = Err(Upstream { status: 503 });
        let failure = crate::outcome!(&failed).unwrap();
        assert_eq!(failure.info.error_type, "Upstream5xx");
        assert_eq!(failure.info.message, "upstream said 503");
    }
}
