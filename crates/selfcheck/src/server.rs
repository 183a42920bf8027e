//! The listener: one tokio task per connection, so many kiosks are served at once and a kiosk
//! that sends garbage, stalls or disappears costs only its own task. Each whole line goes to the
//! connection's [`Session`] on a blocking thread (storage is synchronous), and its reply leaves
//! in one write: the PyPI `sip2` client reads a reply with a single `recv`.

use crate::acs::Acs;
use crate::session::{Outcome, Session};
use sip2::Framer;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[derive(Clone)]
pub struct Server {
    acs: Arc<Acs>,
    tls: Option<TlsAcceptor>,
}

impl Server {
    /// A server with TLS when the settings name a certificate and key.
    pub fn new(acs: Acs) -> Result<Server, crate::tls::TlsError> {
        let tls = match &acs.config().tls {
            Some((cert, key)) => Some(crate::tls::acceptor(cert, key)?),
            None => None,
        };
        Ok(Server { acs: Arc::new(acs), tls })
    }

    /// Accepts kiosks until the task is dropped. Bind first and pass the listener in, so a test
    /// (or `shelfmark serve`) knows the port before the first kiosk calls.
    pub async fn serve(self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(%error, "sip2: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let server = self.clone();
            tokio::spawn(async move {
                let result = match &server.tls {
                    Some(tls) => match tls.accept(stream).await {
                        Ok(stream) => server.connection(stream).await,
                        Err(error) => Err(error),
                    },
                    None => server.connection(stream).await,
                };
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "sip2: connection ended");
                }
            });
        }
    }

    async fn connection<S: AsyncRead + AsyncWrite + Unpin>(&self, mut stream: S) -> io::Result<()> {
        let config = self.acs.config();
        let idle = config.idle_timeout;
        let mut framer = Framer::new(config.options.max_message_length);
        let mut session = Some(Session::new(self.acs.clone()));
        let mut buffer = vec![0u8; 4096];
        loop {
            while let Some(line) = framer.next_message() {
                let Some(mut current) = session.take() else { return Ok(()) };
                let outcome = match line {
                    Ok(line) => {
                        let answered = tokio::task::spawn_blocking(move || {
                            let outcome = current.handle(&line);
                            (current, outcome)
                        })
                        .await;
                        match answered {
                            Ok((back, outcome)) => {
                                session = Some(back);
                                outcome
                            }
                            // A panic inside is a bug; it ends this kiosk's connection only.
                            Err(error) => {
                                tracing::error!(%error, "sip2: a message handler failed");
                                Outcome { reply: None, close: true }
                            }
                        }
                    }
                    Err(error) => {
                        let outcome = current.line_too_long(&error);
                        session = Some(current);
                        outcome
                    }
                };
                if let Some(reply) = outcome.reply {
                    stream.write_all(&reply).await?;
                    stream.flush().await?;
                }
                if outcome.close {
                    let _ = stream.shutdown().await;
                    return Ok(());
                }
            }
            let read = match tokio::time::timeout(idle, stream.read(&mut buffer)).await {
                Ok(read) => read?,
                Err(_) => {
                    tracing::info!("sip2: closing an idle connection");
                    let _ = stream.shutdown().await;
                    return Ok(());
                }
            };
            if read == 0 {
                return Ok(());
            }
            framer.push(&buffer[..read]);
        }
    }
}
