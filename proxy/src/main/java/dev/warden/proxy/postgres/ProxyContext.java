package dev.warden.proxy.postgres;

import dev.warden.core.environment.AccessWindows;
import dev.warden.core.environment.Environments;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.session.SessionRegistry;
import dev.warden.protocol.postgres.Limits;
import io.netty.handler.ssl.SslContext;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/** What every connection of one listener shares; built once by {@link PostgresProxy}. */
record ProxyContext(
    ProxySettings settings,
    Limits limits,
    Environments environments,
    ScramServer scram,
    AuthThrottle throttle,
    Gatekeeper gatekeeper,
    CancelRegistry cancels,
    Optional<SslContext> clientTls,
    UpstreamTls upstreamTls,
    UpstreamPool upstreamPool,
    Transport transport,
    SecureRandom random,
    AtomicInteger clients,
    Catalogs catalogs,
    ProxyAudit audit,
    DataMaps dataMaps,
    LoginSettings logins,
    ApprovalGate approvals,
    AccessWindows windows,
    SessionRegistry sessions) {}
