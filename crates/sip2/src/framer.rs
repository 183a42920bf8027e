//! Cuts a byte stream into SIP2 messages. SIP2 ends each message with CR; LF and CRLF are taken
//! too, since telnet-style test clients and some kiosk software on Windows send them. Pure: the
//! server feeds it what it reads from the socket and takes messages out.

use crate::SipError;

/// A line splitter with a length limit, so an endless line costs bounded memory.
#[derive(Debug, Clone)]
pub struct Framer {
    buffer: Vec<u8>,
    limit: usize,
    /// Inside a line that already proved too long: drop bytes until its end.
    discarding: bool,
}

impl Framer {
    /// `limit`: the longest message, without its terminator (use
    /// [`crate::Options::max_message_length`]).
    pub fn new(limit: usize) -> Self {
        Framer { buffer: Vec::new(), limit, discarding: false }
    }

    /// Adds bytes read from the connection. Call [`Framer::next_message`] until it returns
    /// `None` after each push; the buffer then never holds more than the limit plus one push.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Bytes held that are not yet a whole message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next whole message (without its terminator), `None` when more bytes are needed, or
    /// [`SipError::LineTooLong`] once per line over the limit. After that error the rest of the
    /// line is dropped, so a caller that does not close the connection reads on from the next
    /// message.
    pub fn next_message(&mut self) -> Option<Result<Vec<u8>, SipError>> {
        loop {
            let Some(end) = self.buffer.iter().position(|&b| b == b'\r' || b == b'\n') else {
                if self.buffer.len() > self.limit {
                    let length = self.buffer.len();
                    self.buffer.clear();
                    if !self.discarding {
                        self.discarding = true;
                        return Some(Err(SipError::LineTooLong { length, limit: self.limit }));
                    }
                }
                return None;
            };
            let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            if line.is_empty() {
                // The LF of a CRLF, or a blank line: nothing to answer.
                continue;
            }
            if line.len() > self.limit {
                return Some(Err(SipError::LineTooLong { length: line.len(), limit: self.limit }));
            }
            return Some(Ok(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(framer: &mut Framer) -> Vec<Result<Vec<u8>, SipError>> {
        std::iter::from_fn(|| framer.next_message()).collect()
    }

    #[test]
    fn splits_on_cr_lf_and_crlf_across_pushes() {
        let mut f = Framer::new(100);
        f.push(b"9900");
        assert!(f.next_message().is_none());
        f.push(b"802.00\r\n9300CNa|COb|\n97\r");
        let got: Vec<_> = all(&mut f).into_iter().map(Result::unwrap).collect();
        assert_eq!(got, vec![b"9900802.00".to_vec(), b"9300CNa|COb|".to_vec(), b"97".to_vec()]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn an_endless_line_is_one_error_and_bounded_memory() {
        let mut f = Framer::new(10);
        f.push(&[b'x'; 25]);
        assert_eq!(f.next_message(), Some(Err(SipError::LineTooLong { length: 25, limit: 10 })));
        for _ in 0..100 {
            f.push(&[b'x'; 25]);
            assert_eq!(f.next_message(), None);
            assert!(f.buffered() <= 25);
        }
        f.push(b"xx\r97\r");
        assert_eq!(all(&mut f), vec![Ok(b"97".to_vec())]);
    }

    #[test]
    fn a_whole_line_over_the_limit_is_refused() {
        let mut f = Framer::new(3);
        f.push(b"12345\r97\r");
        assert_eq!(all(&mut f), vec![Err(SipError::LineTooLong { length: 5, limit: 3 }), Ok(b"97".to_vec())]);
    }
}
