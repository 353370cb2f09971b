//! Connecting to the server: `ldap://`, `ldaps://`, `ldapi://`, StartTLS, a CA file, TLS
//! verification on by default; binding (anonymous, simple, SASL EXTERNAL, GSSAPI with the
//! `gssapi` feature); reading the root DSE.
//!
//! # Who drives the connection
//!
//! ldap3 splits a connection into a driver future (`LdapConnAsync::drive`, which reads and
//! writes the socket) and a handle (`Ldap`). Its `drive!` macro spawns the driver and only logs
//! its failures; here the [`Driver`] is owned by the session and polled *only together with*
//! the operation the session waits for ([`Driver::run`]). Two things follow:
//!
//! * a broken connection surfaces as [`ConnError::Lost`] in the operation that waits, never as
//!   a log line;
//! * while the session does not wait for the server (e.g. because the engine's bounded event
//!   channel is full), nobody reads the socket: ldap3's unbounded per-search channel cannot
//!   grow by more than what one poll of the driver decodes, and TCP flow control holds the
//!   server back.
//!
//! Connections are opened here, not by ldap3 (`transport`): TCP with keepalive switched on (a
//! persistent search is silent for hours, and a peer that vanished without a FIN — a NAT or a
//! firewall dropping the flow, a server host powered off — would otherwise never be noticed),
//! TLS and StartTLS with our own rustls configuration, and the `ldapi://` socket. ldap3 gets
//! the far end of a socket pair whose other end is the [`guard`]: it passes on only messages
//! lber can parse without overflowing its stack or waiting forever.

pub mod guard;
mod keepalive;
mod rootdse;
pub mod settings;
mod starttls;
pub mod tls;
mod transport;
pub mod wire;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError};
use tracing::{debug, warn};

pub use rootdse::RootDse;
pub use settings::{BindMethod, ConnectOptions, PasswordSource, Secret, SettingProblem, Transport};

/// A connection problem.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The server could not be reached, the TLS handshake failed, or the connection broke.
    #[error("connection to `{url}` failed: {reason}")]
    Unreachable {
        /// The server URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server's certificate was refused (not signed by a trusted CA, wrong name, expired):
    /// a configuration problem (`ca_file`), not retried.
    #[error("tls with `{url}` failed: {reason} (check `ca_file`, or the server's certificate)")]
    Certificate {
        /// The server URL.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// The connection broke while waiting for the server.
    #[error("the connection to the server was lost: {0}")]
    Lost(String),
    /// The server did not answer in time.
    #[error("the server did not answer within {0:?}")]
    Timeout(Duration),
    /// The TLS configuration cannot be built (a file is missing or wrong).
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The password could not be read.
    #[error("{0}")]
    Password(String),
    /// The bind failed.
    #[error("bind as `{identity}` failed: result {code} ({message})")]
    Bind {
        /// The bind identity (never the password).
        identity: String,
        /// The LDAP result code (49: invalid credentials).
        code: u32,
        /// The server's diagnostic message.
        message: String,
    },
    /// An operation failed on the client side (ldap3 refused it).
    #[error("ldap operation failed: {0}")]
    Operation(String),
    /// The server answered an operation with an error result.
    #[error("{operation} failed with result {code}: {message}")]
    Result {
        /// The operation.
        operation: &'static str,
        /// The LDAP result code.
        code: u32,
        /// The server's diagnostic message.
        message: String,
    },
    /// The server's answer is not valid LDAP.
    #[error(transparent)]
    Wire(#[from] wire::WireError),
    /// The guard refused a message from the server and closed the connection.
    #[error("{0}: refused, the connection is closed (a broken or hostile server)")]
    Refused(guard::Violation),
}

impl ConnError {
    /// True when retrying later may help (the server is down or the network broke).
    pub fn is_transient(&self) -> bool {
        match self {
            ConnError::Unreachable { .. } | ConnError::Lost(_) | ConnError::Timeout(_) => true,
            ConnError::Result { code, .. } | ConnError::Bind { code, .. } => {
                // busy, unavailable, other, timeLimitExceeded
                matches!(code, 3 | 51 | 52 | 80)
            }
            _ => false,
        }
    }
}

/// The URL ldap3 is given for the guarded socket pair (the path is not used).
const GUARDED_URL: &str = "ldapi:///";

/// The boxed driver future of one connection.
type DriveFuture = Pin<Box<dyn Future<Output = Result<(), LdapError>> + Send>>;

/// The connection's driver (see the module docs): polled only while an operation waits.
pub struct Driver {
    future: Option<DriveFuture>,
    /// Why the guard closed the connection (`None` when ldap3 connected itself).
    verdict: Option<guard::Verdict>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("open", &self.future.is_some())
            .finish()
    }
}

impl Driver {
    fn new(conn: LdapConnAsync, verdict: Option<guard::Verdict>) -> Self {
        Self {
            future: Some(Box::pin(conn.drive())),
            verdict,
        }
    }

    /// Runs `operation` while driving the connection. A connection that ends first is
    /// [`ConnError::Lost`] (and stays lost).
    pub async fn run<F: Future>(&mut self, operation: F) -> Result<F::Output, ConnError> {
        let Some(driver) = self.future.as_mut() else {
            return Err(ConnError::Lost("the connection is closed".to_owned()));
        };
        tokio::pin!(operation);
        tokio::select! {
            biased;
            output = &mut operation => Ok(output),
            ended = driver.as_mut() => {
                self.future = None;
                match self.verdict.as_ref().and_then(guard::Verdict::get) {
                    Some(guard::Closed::Refused(violation)) => Err(ConnError::Refused(violation)),
                    Some(guard::Closed::Io(reason)) => Err(ConnError::Lost(reason)),
                    None => Err(ConnError::Lost(match ended {
                        Ok(()) => "the server closed the connection".to_owned(),
                        Err(error) => error.to_string(),
                    })),
                }
            }
        }
    }

    /// [`Driver::run`] with a time limit.
    pub async fn run_timed<F: Future>(
        &mut self,
        limit: Duration,
        operation: F,
    ) -> Result<F::Output, ConnError> {
        match tokio::time::timeout(limit, self.run(operation)).await {
            Ok(result) => result,
            Err(_) => Err(ConnError::Timeout(limit)),
        }
    }

    /// True once the connection ended.
    pub fn is_closed(&self) -> bool {
        self.future.is_none()
    }
}

/// A connected, bound connection.
#[derive(Debug)]
pub struct Connection {
    /// The handle for operations (clone it for concurrent ones).
    pub ldap: Ldap,
    /// The driver; wrap every wait for the server in [`Driver::run`].
    pub driver: Driver,
    /// The timeout of non-streaming operations.
    pub timeout: Duration,
}

impl Connection {
    /// Connects and binds as `options` says. A warning is logged when TLS verification is
    /// off.
    pub async fn open(options: &ConnectOptions) -> Result<Self, ConnError> {
        if options.uses_tls() && !options.tls.verify {
            warn!(
                url = %options.url,
                "tls certificate verification is OFF (`tls_verify = false`): anyone on the \
                 path can impersonate the server"
            );
        }
        let unreachable = |reason: String| ConnError::Unreachable {
            url: options.url.clone(),
            reason,
        };
        let limit = options.timeout;
        let connect = async {
            let (url, settings, verdict) = Self::ldap3_settings(options).await?;
            LdapConnAsync::with_settings(settings, &url)
                .await
                .map(|pair| (pair, verdict))
                .map_err(|error| {
                    let reason = error.to_string();
                    if reason.contains("certificate") {
                        ConnError::Certificate {
                            url: options.url.clone(),
                            reason,
                        }
                    } else {
                        unreachable(reason)
                    }
                })
        };
        let ((conn, ldap), verdict) = match tokio::time::timeout(limit, connect).await {
            Ok(result) => result?,
            Err(_) => return Err(unreachable(format!("no answer within {limit:?}"))),
        };
        let mut connection = Self {
            ldap,
            driver: Driver::new(conn, verdict),
            timeout: options.timeout,
        };
        connection.bind(options).await?;
        debug!(url = %options.url, identity = %options.bind.identity(), "connected");
        Ok(connection)
    }

    /// The URL and settings ldap3 connects with. Normally idsync opens the stream itself (TLS
    /// included) and hands ldap3 the guarded end of a socket pair (see [`guard`]); a GSSAPI
    /// bind may negotiate a SASL security layer the guard cannot read, so ldap3 connects
    /// itself then.
    async fn ldap3_settings(
        options: &ConnectOptions,
    ) -> Result<(String, LdapConnSettings, Option<guard::Verdict>), ConnError> {
        let settings = LdapConnSettings::new().set_conn_timeout(options.timeout);
        if matches!(options.bind, BindMethod::Gssapi) {
            let mut settings = settings;
            if options.uses_tls() {
                settings = settings
                    .set_config(tls::client_config(&options.tls)?)
                    .set_starttls(options.starttls)
                    .set_no_tls_verify(!options.tls.verify);
            }
            return Ok((options.url.clone(), settings, None));
        }
        let guarded = transport::open(options).await?;
        let settings = settings.set_std_stream(ldap3::StdStream::Unix(guarded.stream));
        Ok((GUARDED_URL.to_owned(), settings, Some(guarded.verdict)))
    }

    async fn bind(&mut self, options: &ConnectOptions) -> Result<(), ConnError> {
        let identity = options.bind.identity();
        let limit = self.timeout;
        let result = match &options.bind {
            BindMethod::Anonymous => return Ok(()),
            BindMethod::Simple { dn, password } => {
                let secret = password.read().map_err(ConnError::Password)?;
                self.driver
                    .run_timed(limit, self.ldap.simple_bind(dn, secret.expose()))
                    .await?
            }
            BindMethod::External => {
                self.driver
                    .run_timed(limit, self.ldap.sasl_external_bind())
                    .await?
            }
            BindMethod::Gssapi => self.gssapi_bind(options).await?,
        };
        let result = result.map_err(|error| ConnError::Operation(error.to_string()))?;
        if result.rc != 0 {
            return Err(ConnError::Bind {
                identity,
                code: result.rc,
                message: result.text,
            });
        }
        Ok(())
    }

    #[cfg(feature = "gssapi")]
    async fn gssapi_bind(
        &mut self,
        options: &ConnectOptions,
    ) -> Result<Result<ldap3::LdapResult, LdapError>, ConnError> {
        let host = options.host().ok_or_else(|| {
            ConnError::Operation("gssapi needs a host name in the url".to_owned())
        })?;
        self.driver
            .run_timed(self.timeout, self.ldap.sasl_gssapi_bind(&host))
            .await
    }

    #[cfg(not(feature = "gssapi"))]
    async fn gssapi_bind(
        &mut self,
        _options: &ConnectOptions,
    ) -> Result<Result<ldap3::LdapResult, LdapError>, ConnError> {
        Err(ConnError::Operation(
            "this idsync was built without gssapi support".to_owned(),
        ))
    }

    /// Reads the root DSE.
    pub async fn root_dse(&mut self) -> Result<RootDse, ConnError> {
        rootdse::read(self).await
    }

    /// Unbinds politely (errors ignored: the connection is going away anyway).
    pub async fn close(mut self) {
        let limit = Duration::from_secs(2);
        let _ = self.driver.run_timed(limit, self.ldap.unbind()).await;
    }
}
