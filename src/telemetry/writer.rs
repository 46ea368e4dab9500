//! The log writer: formatted lines go into a bounded queue, and a thread of
//! its own writes them to stderr. A worker never waits for stderr (a full
//! pipe, a stalled collector): past [`super::QUEUED_LINES`] queued lines,
//! a line is dropped and counted.
//!
//! Why not tracing-appender's writer (used before): its thread sleeps in
//! `recv` whenever the queue is empty, so under load nearly every line
//! paid a futex wake-up and a context switch (about 1.3 µs of the 1.9 µs a
//! call line cost, benches/defaults.py). This thread blocks only when
//! idle; once woken it writes what is queued, pauses [`BATCH_PAUSE`] and
//! takes what came meanwhile, in one write(2), until a pause brings
//! nothing. A line waits at most about that pause.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

/// How long the writer waits for more lines before it writes a batch.
pub const BATCH_PAUSE: Duration = Duration::from_millis(1);

/// Bytes gathered before a write(2), at most.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// How long, at exit, the queue has to be written out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(1);

enum Message {
    Line(Vec<u8>),
    /// Write what is queued, then stop and say so.
    Stop(SyncSender<()>),
}

/// Where the subscriber writes: one `write` per formatted line.
#[derive(Clone, Debug)]
pub struct QueuedWriter {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

/// Stops the writer thread when dropped, once what is queued is written
/// (at most [`FLUSH_AT_EXIT`]: a stderr nobody reads cannot hold the exit).
#[derive(Debug)]
pub struct WriterGuard {
    queue: SyncSender<Message>,
}

impl QueuedWriter {
    /// A writer of at most `lines` queued lines to `out`, and its guard.
    pub fn spawn<W: Write + Send + 'static>(out: W, lines: usize) -> (QueuedWriter, WriterGuard) {
        let (queue, receiver) = sync_channel(lines);
        std::thread::Builder::new()
            .name("giropops-log-writer".to_owned())
            .spawn(move || {
                write_out(
                    &receiver,
                    std::io::BufWriter::with_capacity(WRITE_BUFFER_BYTES, out),
                )
            })
            .expect("start the log writer thread");
        let writer = QueuedWriter {
            queue: queue.clone(),
            dropped: Arc::new(AtomicU64::new(0)),
        };
        (writer, WriterGuard { queue })
    }

    /// Lines dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Counts dropped lines (shared by every clone).
    pub fn dropped_counter(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.dropped)
    }
}

impl Write for QueuedWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        match self.queue.try_send(Message::Line(line.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The writer stopped (exit): the line has nowhere to go.
            Err(TrySendError::Disconnected(_)) => {}
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for QueuedWriter {
    type Writer = QueuedWriter;

    fn make_writer(&'a self) -> QueuedWriter {
        self.clone()
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let (done, stopped) = sync_channel(1);
        if send_within(&self.queue, Message::Stop(done), FLUSH_AT_EXIT) {
            let _ = stopped.recv_timeout(FLUSH_AT_EXIT);
        }
    }
}

/// `send` bounded in time (std's `SyncSender` has none): `try_send` again
/// until `within` passes; whether it was sent.
fn send_within(queue: &SyncSender<Message>, mut message: Message, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        match queue.try_send(message) {
            Ok(()) => return true,
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                message = back;
                std::thread::sleep(BATCH_PAUSE);
            }
            Err(_) => return false,
        }
    }
}

/// The writer thread: blocks while idle; once woken, writes batches until
/// a pause brings nothing; stops on [`Message::Stop`] or when every sender
/// is gone. Write errors (a closed stderr) are ignored: logs must never
/// stop the service.
fn write_out<W: Write>(queue: &Receiver<Message>, mut out: W) {
    while let Ok(first) = queue.recv() {
        let mut next = Some(first);
        loop {
            let mut took = false;
            while let Some(message) = next.take().or_else(|| queue.try_recv().ok()) {
                took = true;
                match message {
                    Message::Line(line) => {
                        let _ = out.write_all(&line);
                    }
                    Message::Stop(done) => {
                        let _ = out.flush();
                        let _ = done.send(());
                        return;
                    }
                }
            }
            let _ = out.flush();
            if !took {
                break;
            }
            std::thread::sleep(BATCH_PAUSE);
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A `Write` the test reads back; blocks while `gate` is held.
    #[derive(Clone, Default)]
    struct Shared {
        bytes: Arc<Mutex<Vec<u8>>>,
        gate: Arc<Mutex<()>>,
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _open = self.gate.lock().unwrap();
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_in_order_and_the_guard_flushes_them() {
        let out = Shared::default();
        let (mut writer, guard) = QueuedWriter::spawn(out.clone(), 64);
        for i in 0..50 {
            writer.write_all(format!("line {i}\n").as_bytes()).unwrap();
        }
        drop(guard);
        let written = String::from_utf8(out.bytes.lock().unwrap().clone()).unwrap();
        let expected: String = (0..50).map(|i| format!("line {i}\n")).collect();
        assert_eq!(written, expected);
        assert_eq!(writer.dropped(), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_never_blocks() {
        let out = Shared::default();
        let held = out.gate.lock().unwrap();
        let (mut writer, guard) = QueuedWriter::spawn(out.clone(), 8);
        let started = Instant::now();
        for _ in 0..1000 {
            writer.write_all(b"a line nobody reads yet\n").unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "a write blocked");
        // The writer holds at most one line (blocked on the gate) plus 8 queued.
        assert!(writer.dropped() >= 1000 - 9, "{}", writer.dropped());
        drop(held);
        drop(guard);
        let lines = out.bytes.lock().unwrap().iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines as u64 + writer.dropped(), 1000);
    }
}
