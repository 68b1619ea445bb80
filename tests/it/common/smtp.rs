//! A small SMTP server on 127.0.0.1 that keeps every message it is given:
//! the tests' mail server. It speaks just enough of RFC 5321 (greeting,
//! EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), as a
//! plain relay without STARTTLS or AUTH, which lettre uses as is.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One message as delivered: the envelope recipients and the data.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub to: Vec<String>,
    pub data: String,
}

pub struct SmtpSink {
    pub address: SocketAddr,
    delivered: Arc<Mutex<Vec<Delivered>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for SMTP");
        let address = listener.local_addr().expect("address");
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let kept = delivered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    // A broken conversation only loses its own message.
                    let _ = converse(stream, &kept);
                });
            }
        });
        Self { address, delivered }
    }

    /// `smtp_url` for Seatgate.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().expect("not poisoned").clone()
    }

    /// The first `https?://...` link in the message to `to`, read as a mail
    /// client reads it (lettre sends long lines quoted-printable).
    pub fn link_to(&self, to: &str) -> String {
        let messages = self.delivered();
        let message = messages
            .iter()
            .find(|m| m.to.iter().any(|r| r.eq_ignore_ascii_case(to)))
            .unwrap_or_else(|| panic!("a message to {to} in {messages:?}"));
        let (headers, body) = message
            .data
            .split_once("\r\n\r\n")
            .expect("headers, then body");
        let body = if headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable")
        {
            quoted_printable(body)
        } else {
            body.to_owned()
        };
        body.split_whitespace()
            .find(|word| word.starts_with("http://") || word.starts_with("https://"))
            .unwrap_or_else(|| panic!("a link in {}", message.data))
            .to_owned()
    }
}

/// Decodes quoted-printable text (RFC 2045, 6.7): soft line breaks and `=XX`.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'='
            && let Some(hex) = tail.get(..2)
            && let Ok(byte) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
        {
            bytes.push(byte);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn converse(stream: TcpStream, kept: &Mutex<Vec<Delivered>>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP\r\n")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("HELO")
            || command.starts_with("MAIL FROM")
            || command.starts_with("NOOP")
        {
            out.write_all(b"250 OK\r\n")?;
        } else if command.starts_with("RSET") {
            to.clear();
            out.write_all(b"250 OK\r\n")?;
        } else if command.starts_with("RCPT TO:") {
            let address = line.trim_end()[8..]
                .trim()
                .trim_matches(|c| c == '<' || c == '>');
            to.push(address.to_owned());
            out.write_all(b"250 OK\r\n")?;
        } else if command == "DATA" {
            out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            kept.lock().expect("not poisoned").push(Delivered {
                to: std::mem::take(&mut to),
                data,
            });
            out.write_all(b"250 OK queued\r\n")?;
        } else if command == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"502 not implemented\r\n")?;
        }
    }
}
