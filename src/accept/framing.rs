//! HTTP/1.1 request framing, followed on the bytes of a connection before
//! hyper parses them, to refuse request-smuggling shapes (RFC 9112 6.1,
//! 6.3 and 11.2): a request head carrying both `Content-Length` and
//! `Transfer-Encoding`, or `Content-Length` twice. hyper reads the first
//! as chunked (closing after its answer) and takes equal duplicate
//! lengths; a proxy in front may frame the same bytes another way, and a
//! second request hides in the body. Here one byte of the offending
//! header's name becomes `@` (not a token character), so hyper's own
//! parser refuses the head: 400 Bad Request, and the connection closed.
//!
//! The current head is held back until it is complete (hyper could not
//! parse it sooner anyway); bodies pass as they arrive, counted by their
//! `Content-Length` or their chunk sizes, so the next head on a keep-alive
//! connection is found. Whatever this guard does not follow (HTTP/2's
//! preface, an unparseable head or chunk line, a head over
//! [`MAX_HEAD_BYTES`]) turns it off: hyper's parser alone decides then,
//! as it would without the guard.

/// The largest head followed: hyper's own read buffer limit.
pub(super) const MAX_HEAD_BYTES: usize = 8192 + 4096 * 100;
/// The longest chunk-size or trailer line followed.
const MAX_LINE_BYTES: usize = 4096;
/// Headers parsed per head: hyper's own limit.
const MAX_HEADERS: usize = 100;

/// Where in the request stream the guard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In a request head (its bytes so far are held).
    Head,
    /// This many body bytes to pass.
    Body(u64),
    /// In a chunk-size line (held).
    ChunkSize,
    /// This many bytes of chunk data and its line end to pass.
    ChunkData(u64),
    /// In the trailer section, until an empty line (the line is held).
    Trailers,
    /// Not following: every byte passes.
    Off,
}

/// Follows a connection's HTTP/1.1 requests; see the module docs.
#[derive(Debug)]
pub(super) struct FramingGuard {
    state: State,
    /// The current head or line, not yet passed on.
    held: Vec<u8>,
}

impl Default for FramingGuard {
    fn default() -> Self {
        Self {
            state: State::Head,
            held: Vec::new(),
        }
    }
}

impl FramingGuard {
    /// Whether the guard no longer follows the stream (and holds nothing).
    pub(super) fn is_off(&self) -> bool {
        self.state == State::Off && self.held.is_empty()
    }

    /// The held bytes, at the end of the stream: hyper gets what arrived.
    pub(super) fn finish(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.held);
        self.state = State::Off;
    }

    /// Takes bytes read from the connection; appends to `out` those hyper
    /// may see now (a held head once it is complete, checked).
    pub(super) fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            match self.state {
                State::Off => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body(left) | State::ChunkData(left) => {
                    let take =
                        usize::try_from(left).map_or(input.len(), |left| left.min(input.len()));
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    let left = left - take as u64;
                    self.state = match (self.state, left) {
                        (State::Body(_), 0) => State::Head,
                        (State::Body(_), left) => State::Body(left),
                        (_, 0) => State::ChunkSize,
                        (_, left) => State::ChunkData(left),
                    };
                }
                State::Head => {
                    let Some(line_end) = memchr(b'\n', input) else {
                        self.hold(input, MAX_HEAD_BYTES, out);
                        return;
                    };
                    let (line, rest) = input.split_at(line_end + 1);
                    input = rest;
                    self.hold(line, MAX_HEAD_BYTES, out);
                    if self.state == State::Head && ends_with_empty_line(&self.held) {
                        self.head_complete(out);
                    }
                }
                State::ChunkSize | State::Trailers => {
                    let Some(line_end) = memchr(b'\n', input) else {
                        self.hold(input, MAX_LINE_BYTES, out);
                        return;
                    };
                    let (line, rest) = input.split_at(line_end + 1);
                    input = rest;
                    self.hold(line, MAX_LINE_BYTES, out);
                    if self.state != State::Off {
                        self.line_complete(out);
                    }
                }
            }
        }
    }

    /// Holds `bytes`; past `limit`, stops following and lets all through.
    fn hold(&mut self, bytes: &[u8], limit: usize, out: &mut Vec<u8>) {
        self.held.extend_from_slice(bytes);
        if self.held.len() > limit {
            self.finish(out);
        }
    }

    /// A chunk-size or trailer line is complete in `held`.
    fn line_complete(&mut self, out: &mut Vec<u8>) {
        let line = trim_line_end(&self.held);
        self.state = match self.state {
            State::ChunkSize => match chunk_size(line) {
                Some(0) => State::Trailers,
                // The data, then its CRLF.
                Some(size) => size.checked_add(2).map_or(State::Off, State::ChunkData),
                None => State::Off,
            },
            _ if line.is_empty() => State::Head,
            other => other,
        };
        out.append(&mut self.held);
    }

    /// `held` ends with an empty line: a head, if it parses.
    fn head_complete(&mut self, out: &mut Vec<u8>) {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        let next = match request.parse(&self.held) {
            // Only empty lines so far, which may precede a request line.
            Ok(httparse::Status::Partial) => return,
            Ok(httparse::Status::Complete(_)) => {
                let framing = Framing::of(&request, &self.held);
                match framing {
                    Framing::Smuggling { name_at } => {
                        self.held[name_at] = b'@';
                        State::Off
                    }
                    Framing::Length(0) | Framing::None => State::Head,
                    Framing::Length(length) => State::Body(length),
                    Framing::Chunked => State::ChunkSize,
                    Framing::Unfollowed => State::Off,
                }
            }
            Err(_) => State::Off,
        };
        self.state = next;
        out.append(&mut self.held);
    }
}

/// How a parsed request head frames its body.
#[derive(Debug, PartialEq, Eq)]
enum Framing {
    /// No body.
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// Chunked.
    Chunked,
    /// Both framings, or two lengths: the name of the (last)
    /// `Content-Length` starts at this offset of the head.
    Smuggling { name_at: usize },
    /// Something hyper decides alone (HTTP/2's preface, an upgrade, a
    /// length it will refuse).
    Unfollowed,
}

impl Framing {
    fn of(request: &httparse::Request<'_, '_>, head: &[u8]) -> Self {
        if request.method == Some("PRI") || request.method == Some("CONNECT") {
            return Framing::Unfollowed;
        }
        let mut lengths = 0;
        let mut length = None;
        let mut length_at = None;
        let mut chunked = false;
        let mut upgrade = false;
        for header in request.headers.iter() {
            if header.name.eq_ignore_ascii_case("content-length") {
                lengths += 1;
                // The name is a slice of `head`: its offset there.
                length_at = Some(header.name.as_ptr() as usize - head.as_ptr() as usize);
                length = content_length(header.value);
            } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = true;
            } else if header.name.eq_ignore_ascii_case("upgrade") {
                upgrade = true;
            }
        }
        match (lengths, chunked, length_at) {
            (1.., true, Some(name_at)) | (2.., false, Some(name_at)) => {
                Framing::Smuggling { name_at }
            }
            _ if upgrade => Framing::Unfollowed,
            (_, true, _) => Framing::Chunked,
            (0, false, _) => Framing::None,
            _ => length.map_or(Framing::Unfollowed, Framing::Length),
        }
    }
}

/// A `Content-Length` value as hyper reads it: digits, or a list of the
/// same digits.
fn content_length(value: &[u8]) -> Option<u64> {
    let mut length = None;
    for part in value.split(|&byte| byte == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let parsed: u64 = std::str::from_utf8(part).ok()?.parse().ok()?;
        if length.is_some_and(|length| length != parsed) {
            return None;
        }
        length = Some(parsed);
    }
    length
}

/// A chunk-size line's size: hex digits, then optional whitespace and
/// extensions.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let size = line
        .split(|&byte| byte == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    if size.is_empty() || !size.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `bytes` ends with an empty line (`\n\n` or `\n\r\n`), where a
/// head may end.
fn ends_with_empty_line(bytes: &[u8]) -> bool {
    bytes.ends_with(b"\n\n") || bytes.ends_with(b"\n\r\n")
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&byte| byte == needle)
}

#[cfg(test)]
mod tests;
