use super::*;

/// What hyper would be given for `stream` fed in pieces of `piece` bytes.
fn through(stream: &[u8], piece: usize) -> Vec<u8> {
    let mut guard = FramingGuard::default();
    let mut out = Vec::new();
    for part in stream.chunks(piece) {
        guard.feed(part, &mut out);
    }
    guard.finish(&mut out);
    out
}

/// Every piece size gives the same bytes.
fn same_for_every_split(stream: &[u8]) -> Vec<u8> {
    let whole = through(stream, stream.len().max(1));
    for piece in 1..stream.len().min(64) {
        assert_eq!(
            through(stream, piece),
            whole,
            "piece {piece}: {:?}",
            String::from_utf8_lossy(stream)
        );
    }
    whole
}

const POST: &str = "POST /api HTTP/1.1\r\nHost: x\r\n";

#[test]
fn honest_requests_pass_unchanged_whatever_the_reads() {
    let streams = [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n".to_owned(),
        format!("{POST}Content-Length: 2\r\n\r\n{{}}{POST}Content-Length: 0\r\n\r\n"),
        format!("{POST}Transfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{{}}\r\n0\r\nX-T: 1\r\n\r\n"),
        // Bare LF line ends, empty lines before a request line.
        "\r\nGET / HTTP/1.1\nHost: x\n\nGET / HTTP/1.1\n\n".to_owned(),
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0".to_owned(),
    ];
    for stream in streams {
        assert_eq!(same_for_every_split(stream.as_bytes()), stream.as_bytes());
    }
}

#[test]
fn smuggling_heads_are_made_unparseable_at_the_length_header() {
    for (shape, poisoned) in [
        (
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
            "@ontent-Length: 2\r\nTransfer-Encoding: chunked\r\n",
        ),
        (
            "transfer-encoding: chunked\r\ncontent-length: 2\r\n",
            "transfer-encoding: chunked\r\n@ontent-length: 2\r\n",
        ),
        (
            "Content-Length: 2\r\nContent-Length: 2\r\n",
            "Content-Length: 2\r\n@ontent-Length: 2\r\n",
        ),
        (
            "Content-Length: 2\nTransfer-Encoding: chunked\n",
            "@ontent-Length: 2\nTransfer-Encoding: chunked\n",
        ),
    ] {
        let stream = format!("{POST}{shape}\r\n0\r\n\r\n");
        let out = same_for_every_split(stream.as_bytes());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{POST}{poisoned}\r\n0\r\n\r\n")
        );
        let mut headers = [httparse::EMPTY_HEADER; 16];
        let parsed =
            httparse::Request::new(&mut headers).parse(format!("{POST}{poisoned}\r\n").as_bytes());
        assert!(parsed.is_err(), "{poisoned:?} still parses");
    }
}

#[test]
fn a_smuggling_head_after_a_body_is_found() {
    // The first body holds a head-like text; the real second head smuggles.
    let first = format!("{POST}Content-Length: 40\r\n\r\n");
    let body = "Content-Length: 1\r\nContent-Length: 1\r\n\r\n";
    assert_eq!(body.len(), 40);
    let chunked = format!("{POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    let second = format!("{POST}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n");
    let stream = format!("{first}{body}{chunked}{second}");
    let out = String::from_utf8(same_for_every_split(stream.as_bytes())).unwrap();
    assert_eq!(
        out,
        format!(
            "{first}{body}{chunked}{}",
            second.replace("Content-Length: 0", "@ontent-Length: 0")
        )
    );
}

#[test]
fn what_it_cannot_follow_it_leaves_to_hyper() {
    for stream in [
        format!("{POST}Content-Length: 2x\r\n\r\n{{}}"),
        format!("{POST}Transfer-Encoding: chunked\r\n\r\nzz\r\n"),
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_owned(),
    ] {
        let mut guard = FramingGuard::default();
        let mut out = Vec::new();
        guard.feed(stream.as_bytes(), &mut out);
        assert!(guard.is_off(), "{stream:?}");
        assert_eq!(out, stream.as_bytes());
    }
    // A head past the limit is passed on, whole, once the limit is crossed.
    let mut guard = FramingGuard::default();
    let mut out = Vec::new();
    let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD_BYTES));
    guard.feed(long.as_bytes(), &mut out);
    assert!(guard.is_off());
    assert_eq!(out, long.as_bytes());
}

#[test]
fn lengths_and_chunk_sizes_read_as_hyper_reads_them() {
    assert_eq!(content_length(b"42"), Some(42));
    assert_eq!(content_length(b"7, 7"), Some(7));
    assert_eq!(content_length(b"7, 8"), None);
    assert_eq!(content_length(b"+7"), None);
    assert_eq!(content_length(b""), None);
    assert_eq!(chunk_size(b"1f"), Some(31));
    assert_eq!(chunk_size(b"A ; name=value"), Some(10));
    assert_eq!(chunk_size(b"-1"), None);
    assert_eq!(chunk_size(b"ffffffffffffffffff"), None);
}
