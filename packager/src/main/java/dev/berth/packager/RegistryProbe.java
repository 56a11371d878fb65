package dev.berth.packager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Checks that a registry's port accepts connections (and, unless insecure registries are allowed,
 * completes a TLS handshake) before Jib starts. Jib retries a dead
 * registry for a minute or more; a person at a terminal wants one line within seconds.
 */
final class RegistryProbe {
    private RegistryProbe() {
    }

    /** True where requests go through a proxy, so a direct connection says nothing. */
    static boolean proxied() {
        return System.getProperty("https.proxyHost") != null || System.getProperty("http.proxyHost") != null
                || System.getenv("HTTPS_PROXY") != null || System.getenv("https_proxy") != null;
    }

    /**
     * A TLS handshake on the connected socket: Jib retries a registry that answers plain HTTP (or
     * presents a certificate the JVM does not trust) for a minute, with a page of errors; this says
     * why in one line within the connect timeout.
     */
    private static void requireTls(Socket socket, String host, int port, String registry, Duration timeout, String role) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
            SSLSocket tls = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(socket, host, port, false);
            tls.startHandshake();
        } catch (SSLHandshakeException e) {
            String why = e.getMessage() == null ? "" : e.getMessage();
            if (why.contains("PKIX") || why.contains("certificate")) {
                throw new PackagingException.RegistryUnreachableException(role + " registry " + registry
                        + " presents a certificate this JVM does not trust; pass --insecure-registry for a registry you trust", e);
            }
            throw plainHttp(registry, role, e);
        } catch (SSLException e) {
            throw plainHttp(registry, role, e);
        } catch (SocketTimeoutException e) {
            throw new PackagingException.RegistryUnreachableException(role + " registry " + registry + " did not answer a TLS"
                    + " handshake within " + timeout.toSeconds() + " s; pass --insecure-registry if it speaks plain HTTP", e);
        } catch (IOException e) {
            throw plainHttp(registry, role, e);
        }
    }

    private static PackagingException.RegistryUnreachableException plainHttp(String registry, String role, IOException e) {
        return new PackagingException.RegistryUnreachableException(role + " registry " + registry
                + " does not speak HTTPS (plain HTTP?); pass --insecure-registry for a plain-HTTP registry you trust", e);
    }

    /**
     * Throws {@link PackagingException.RegistryUnreachableException} unless {@code registry}
     * ({@code host} or {@code host:port}) accepts a TCP connection on its port, or on 443 or, for an
     * insecure registry, 80 when no port is given.
     */
    static void requireReachable(String registry, boolean insecure, Duration timeout, String role) {
        if (proxied()) {
            return;
        }
        String host = registry;
        List<Integer> ports = new ArrayList<>();
        int colon = registry.lastIndexOf(':');
        if (colon > 0 && registry.indexOf(']') < colon) {
            host = registry.substring(0, colon);
            ports.add(Integer.parseInt(registry.substring(colon + 1)));
        } else {
            ports.add(443);
            if (insecure) {
                ports.add(80);
            }
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        IOException last = null;
        for (int port : ports) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
                if (!insecure) {
                    requireTls(socket, host, port, registry, timeout, role);
                }
                return;
            } catch (IOException e) {
                last = e;
            }
        }
        String why = last == null || last.getMessage() == null ? String.valueOf(last) : last.getMessage();
        if (last instanceof UnknownHostException) {
            why = "unknown host";
        }
        throw new PackagingException.RegistryUnreachableException(
                "cannot reach " + role + " registry " + registry + " (" + why + ")", last);
    }
}
