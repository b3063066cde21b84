//! Showing an error with its causes.
//!
//! Melodora's error types keep what caused them as `source()` rather than
//! pasting it into their own message, so that callers can inspect the cause
//! and nothing is printed twice. Where an error leaves the process as text
//! (an HTTP body, a WebSocket message, a log line) the whole chain is shown
//! with [`ErrorChain`]; the command line does the same through anyhow's
//! `{:#}`, which prints the identical text.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its sources, joined with `": "`
/// (`cannot read file: No such file or directory (os error 2)`).
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot load the model")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_shows_every_cause_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let outer = Outer(inner);
        assert_eq!(outer.to_string(), "cannot load the model");
        assert_eq!(
            ErrorChain(&outer).to_string(),
            "cannot load the model: no such file"
        );
        let alone = std::io::Error::other("alone");
        assert_eq!(ErrorChain(&alone).to_string(), "alone");
    }
}
