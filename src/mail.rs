//! Outgoing email over SMTP (lettre): one plain-text message at a time, with
//! a timeout, on the blocking pool (the caller's business).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{Message, SmtpTransport, Transport};

use crate::accounts::Email;
use crate::config;

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why a message did not go out. The text never carries the SMTP URL.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the mail server refused or could not be reached: {0}")]
    Smtp(String),
    #[error("the message could not be built: {0}")]
    Message(String),
}

/// The configured SMTP server and sender.
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `config`, which the configuration has checked.
    pub fn new(config: &config::Mail) -> Result<Self, String> {
        let transport = SmtpTransport::from_url(config.smtp_url.expose())
            .map_err(|_| "smtp_url: not a usable SMTP URL".to_owned())?
            .timeout(Some(TIMEOUT))
            .build();
        let from = config
            .from
            .parse()
            .map_err(|_| format!("mail_from: {:?} is not an address", config.from))?;
        Ok(Self { transport, from })
    }

    /// Sends one plain-text message; blocks for the SMTP conversation.
    pub fn send(&self, to: &Email, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to
            .as_str()
            .parse()
            .map_err(|e: lettre::address::AddressError| MailError::Message(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| MailError::Smtp(e.to_string()))
    }
}
