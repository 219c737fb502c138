package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.core.identity.Identity;
import dev.warden.testkit.tls.TestCertificates;
import dev.warden.testkit.tls.TestCertificates.Authority;
import dev.warden.testkit.tls.TestCertificates.Issued;
import dev.warden.testkit.tls.TestCertificates.IssuedFiles;
import dev.warden.testkit.tls.TestCertificates.Usage;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS handshakes of a JDK client against the listener's server context with client certificates
 * (THREATS T09): the configured CA's certificates are accepted and visible to the login, others
 * (another CA, expired, serverAuth only, revoked) fail the handshake, and a client without a
 * certificate is refused or let through as configured.
 */
class ListenerTlsClientCertTest {
  @TempDir static Path dir;
  static Authority serverCa;
  static Authority clientRoot;
  static Authority clientCa;
  static Path serverCert;
  static Path serverKey;
  static Path clientCaFile;
  static Path serverCaFile;

  private EventLoopGroup group;
  private Channel server;
  private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

  /** What the server saw of one handshake. */
  private record Outcome(boolean success, List<X509Certificate> peer, Optional<Throwable> cause) {}

  @BeforeAll
  static void certificates() {
    serverCa = TestCertificates.rootCa("Warden Test Server CA");
    IssuedFiles listener =
        serverCa
            .leaf("warden-listener")
            .dns("localhost")
            .ip("127.0.0.1")
            .usage(Usage.SERVER_AUTH)
            .issue()
            .writeTo(dir);
    serverCert = listener.certificate();
    serverKey = listener.privateKey();
    serverCaFile = serverCa.writeCertificate(dir.resolve("server-ca.crt"));
    clientRoot = TestCertificates.rootCa("Warden Test Client Root");
    clientCa = clientRoot.intermediate("Warden Test Client Issuing CA");
    clientCaFile = clientRoot.writeCertificate(dir.resolve("client-ca.crt"));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close().syncUninterruptibly();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static ListenerTls listener(boolean required) {
    return listener(required, Optional.empty());
  }

  private static ListenerTls listener(boolean required, Optional<Path> crl) {
    return new ListenerTls(serverCert, serverKey, true)
        .withClientCertificates(
            new ListenerTls.ClientCertificates(
                clientCaFile, required, ClientCertificateSettings.defaults(), crl));
  }

  /** Starts a server on a free port whose only handler records each handshake's outcome. */
  private int start(ListenerTls tls) {
    SslContext context = tls.sslContext();
    Transport transport = Transport.best();
    group = transport.newGroup(1, "tls-test");
    server =
        new ServerBootstrap()
            .group(group)
            .channel(transport.serverChannel())
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    SslHandler ssl = context.newHandler(ch.alloc());
                    ch.pipeline().addLast(ssl, new Recorder(ssl.engine()));
                  }
                })
            .bind(new InetSocketAddress("127.0.0.1", 0))
            .syncUninterruptibly()
            .channel();
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  private final class Recorder extends ChannelInboundHandlerAdapter {
    private final SSLEngine engine;

    Recorder(SSLEngine engine) {
      this.engine = engine;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof SslHandshakeCompletionEvent done) {
        if (done.isSuccess()) {
          List<X509Certificate> peer = new ArrayList<>();
          try {
            for (Certificate c : engine.getSession().getPeerCertificates()) {
              peer.add((X509Certificate) c);
            }
          } catch (SSLPeerUnverifiedException e) {
            // no client certificate
          }
          outcomes.add(new Outcome(true, peer, Optional.empty()));
        } else {
          outcomes.add(new Outcome(false, List.of(), Optional.of(done.cause())));
        }
        ctx.close();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** A JDK client that trusts the server CA and presents {@code clientKeys} (or nothing). */
  private Outcome handshake(
      int port, Optional<KeyManager> clientKeys, String protocol, List<Principal> issuersSeen)
      throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server-ca", serverCa.certificate());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        clientKeys.map(k -> new KeyManager[] {new Recording(k, issuersSeen)}).orElse(null),
        tmf.getTrustManagers(),
        null);
    try (Socket plain = new Socket("127.0.0.1", port);
        SSLSocket socket =
            (SSLSocket) context.getSocketFactory().createSocket(plain, "localhost", port, true)) {
      socket.setEnabledProtocols(new String[] {protocol});
      socket.setSoTimeout(30_000);
      try {
        socket.startHandshake();
        // TLS 1.3 finishes the client's handshake before the server has judged its certificate:
        // wait for the server's verdict (it closes either way)
        socket.getInputStream().read();
      } catch (SSLException | java.net.SocketException e) {
        // refused: the server's outcome says why
      }
    }
    Outcome outcome = outcomes.poll(30, TimeUnit.SECONDS);
    assertThat(outcome).as("the server saw the handshake end").isNotNull();
    return outcome;
  }

  private Outcome handshake(int port, Issued client, String protocol) throws Exception {
    return handshake(port, Optional.of(keyManager(client)), protocol, new ArrayList<>());
  }

  /** A key manager over the client's PKCS#12 file, as pgjdbc loads a {@code .p12} sslkey. */
  private static KeyManager keyManager(Issued client) throws Exception {
    IssuedFiles files = client.writeTo(dir.resolve(client.name() + "-" + System.nanoTime()));
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(files.pkcs12())) {
      store.load(in, TestCertificates.PKCS12_PASSWORD.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(store, TestCertificates.PKCS12_PASSWORD.toCharArray());
    return kmf.getKeyManagers()[0];
  }

  /** Records the certificate authorities the server asks for. */
  private static final class Recording extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager keys;
    private final List<Principal> issuers;

    Recording(KeyManager keys, List<Principal> issuers) {
      this.keys = (X509ExtendedKeyManager) keys;
      this.issuers = issuers;
    }

    @Override
    public String chooseEngineClientAlias(String[] types, Principal[] asked, SSLEngine engine) {
      return keys.chooseEngineClientAlias(types, asked, engine);
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] asked) {
      return keys.getClientAliases(keyType, asked);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] asked, Socket socket) {
      if (asked != null) {
        issuers.addAll(List.of(asked));
      }
      return keys.chooseClientAlias(keyType, asked, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return keys.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return keys.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  /** The server failed the handshake, for the reason the JDK's TLS gives as {@code why}. */
  private static void assertRefused(Outcome outcome, String why) {
    assertThat(outcome.success()).isFalse();
    assertThat(outcome.cause()).hasValueSatisfying(c -> assertThat(c).hasMessageContaining(why));
  }

  private Issued alice() {
    return clientCa.leaf("Alice").email("alice@corp.example").issue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aCertificateFromTheConfiguredCaIsAcceptedAndNamesTheIdentity(String protocol)
      throws Exception {
    int port = start(listener(true));
    Issued alice = alice();
    List<Principal> asked = new CopyOnWriteArrayList<>();

    Outcome outcome = handshake(port, Optional.of(keyManager(alice)), protocol, asked);

    assertThat(outcome.success()).as("%s", outcome.cause()).isTrue();
    assertThat(outcome.peer()).hasSize(2);
    assertThat(outcome.peer().get(0)).isEqualTo(alice.certificate());
    // the server asks only for the configured CA, not the JDK's public ones
    assertThat(asked).containsExactly(clientRoot.certificate().getSubjectX500Principal());
    Identity identity =
        listener(true)
            .clientCertificates()
            .orElseThrow()
            .verifier(Clock.systemUTC())
            .verify("alice@corp.example", outcome.peer());
    assertThat(identity.name()).isEqualTo("alice@corp.example");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aCertificateFromAnotherCaIsRefused(String protocol) throws Exception {
    int port = start(listener(true));
    Authority other = TestCertificates.rootCa("Warden Test Client Root");
    Issued mallory = other.leaf("Alice").email("alice@corp.example").issue();

    assertRefused(handshake(port, mallory, protocol), "signature check failed");
  }

  @Test
  void anExpiredCertificateIsRefused() throws Exception {
    int port = start(listener(true));
    Issued expired = clientCa.leaf("Alice").email("alice@corp.example").expired().issue();

    assertRefused(handshake(port, expired, "TLSv1.3"), "validity check failed");
  }

  @Test
  void aNotYetValidCertificateIsRefused() throws Exception {
    int port = start(listener(true));
    Issued early = clientCa.leaf("Alice").email("alice@corp.example").notYetValid().issue();

    assertRefused(handshake(port, early, "TLSv1.3"), "validity check failed");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aServerAuthOnlyCertificateIsRefusedByTls(String protocol) throws Exception {
    int port = start(listener(true));
    Issued server =
        clientCa.leaf("Alice").email("alice@corp.example").usage(Usage.SERVER_AUTH).issue();

    assertRefused(
        handshake(port, server, protocol),
        "Extended key usage does not permit use for TLS client authentication");
  }

  @Test
  void aCertificateWithoutExtendedKeyUsagePassesTlsAndIsRefusedByTheVerifier() throws Exception {
    int port = start(listener(true));
    Issued bare = clientCa.leaf("Alice").email("alice@corp.example").usage(Usage.NONE).issue();

    Outcome outcome = handshake(port, bare, "TLSv1.3");

    assertThat(outcome.success()).isTrue();
    assertThatThrownBy(
            () ->
                listener(true)
                    .clientCertificates()
                    .orElseThrow()
                    .verifier(Clock.systemUTC())
                    .verify("alice@corp.example", outcome.peer()))
        .isInstanceOfSatisfying(
            AuthenticationFailure.class,
            e ->
                assertThat(e.reason()).isEqualTo(AuthenticationFailure.Reason.CERTIFICATE_INVALID));
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void noCertificateIsRefusedWhenRequired(String protocol) throws Exception {
    int port = start(listener(true));

    assertRefused(
        handshake(port, Optional.empty(), protocol, new ArrayList<>()),
        "Empty client certificate chain");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void noCertificateIsLetThroughWithoutPeerCertificatesWhenOptional(String protocol)
      throws Exception {
    int port = start(listener(false));

    Outcome outcome = handshake(port, Optional.empty(), protocol, new ArrayList<>());

    assertThat(outcome.success()).as("%s", outcome.cause()).isTrue();
    assertThat(outcome.peer()).isEmpty();
  }

  @Test
  void aBadCertificateIsRefusedEvenWhenCertificatesAreOptional() throws Exception {
    int port = start(listener(false));
    Issued expired = clientCa.leaf("Alice").email("alice@corp.example").expired().issue();

    assertRefused(handshake(port, expired, "TLSv1.3"), "validity check failed");
  }

  @Test
  void aRevokedCertificateIsRefusedAndAnotherFromTheSameCaAccepted() throws Exception {
    Issued revoked = alice();
    Issued good = clientCa.leaf("Bob").email("bob@corp.example").issue();
    Path crl = clientCa.writeCrl(dir.resolve("issuing.crl"), revoked.certificate());
    int port = start(listener(true, Optional.of(crl)));

    assertRefused(handshake(port, revoked, "TLSv1.3"), "Certificate has been revoked");
    assertThat(handshake(port, good, "TLSv1.3").success()).isTrue();
  }

  @Test
  void withACrlFileALeafWhoseIssuerHasNoCrlThereIsRefused() throws Exception {
    // the CRL file holds the root's CRL only: the issuing CA's leaves cannot be checked
    Path crl = clientRoot.writeCrl(dir.resolve("root-only.crl"));
    int port = start(listener(true, Optional.of(crl)));

    assertRefused(handshake(port, alice(), "TLSv1.3"), "Could not determine revocation status");
  }

  @Test
  void theThreeArgumentListenerAsksForNoCertificate() throws Exception {
    int port = start(new ListenerTls(serverCert, serverKey, false));
    List<Principal> asked = new ArrayList<>();

    Outcome outcome = handshake(port, Optional.of(keyManager(alice())), "TLSv1.3", asked);

    assertThat(outcome.success()).isTrue();
    assertThat(outcome.peer()).isEmpty();
    assertThat(asked).isEmpty();
  }

  @Test
  void unusableCaAndCrlFilesAreClearErrors() throws Exception {
    Path leafAsCa = alice().writeTo(dir.resolve("leaf-as-ca")).certificate();
    assertThatThrownBy(() -> listenerWith(leafAsCa, Optional.empty()).sslContext())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not a CA");

    Path missing = dir.resolve("missing-ca.crt");
    assertThatThrownBy(() -> listenerWith(missing, Optional.empty()).sslContext())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(missing.toString());

    Path empty = Files.writeString(dir.resolve("empty-ca.crt"), "");
    assertThatThrownBy(() -> listenerWith(empty, Optional.empty()).sslContext())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no certificate");

    Path notCrl = Files.writeString(dir.resolve("not.crl"), "hello\n");
    assertThatThrownBy(() -> listenerWith(clientCaFile, Optional.of(notCrl)).sslContext())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not.crl");
  }

  private static ListenerTls listenerWith(Path caFile, Optional<Path> crl) {
    return new ListenerTls(serverCert, serverKey, true)
        .withClientCertificates(
            new ListenerTls.ClientCertificates(
                caFile, true, ClientCertificateSettings.defaults(), crl));
  }
}
