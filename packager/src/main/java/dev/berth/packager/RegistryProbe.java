package dev.berth.packager;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks that a registry's port accepts connections before Jib starts. Jib retries a dead
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
                return;
            } catch (IOException e) {
                last = e;
            }
        }
        String why = last == null || last.getMessage() == null ? String.valueOf(last) : last.getMessage();
        if (last instanceof java.net.UnknownHostException) {
            why = "unknown host";
        }
        throw new PackagingException.RegistryUnreachableException(
                "cannot reach " + role + " registry " + registry + " (" + why + ")", last);
    }
}
