package dev.berth.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * One keep-alive HTTP/1.1 connection replaying one prepared request, as wrk does: the request bytes
 * are built once, each call writes them and reads the whole answer (Content-Length or chunked). A
 * client this small costs the measured server little CPU on a shared machine, and one caller is
 * exactly one connection, so concurrency N means N connections.
 */
final class PerfHttpCaller implements PerfMeasurement.Caller {
    private static final int TIMEOUT_MILLIS = 30_000;

    private final String host;
    private final int port;
    private final byte[] request;
    private final byte[] scratch = new byte[64 * 1024];
    private Socket socket;
    private OutputStream out;
    private InputStream in;

    PerfHttpCaller(String host, int port, byte[] request) {
        this.host = host;
        this.port = port;
        this.request = request;
    }

    /** The request bytes of a POST with these headers (each {@code "Name: value"}) and body. */
    static byte[] post(String host, int port, String path, byte[] body, String... headers) {
        StringBuilder head = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: ").append(host).append(':').append(port)
                .append("\r\nContent-Length: ").append(body.length).append("\r\n");
        for (String h : headers) {
            head.append(h).append("\r\n");
        }
        head.append("\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    @Override
    public void call() throws IOException {
        if (socket == null) {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            socket.connect(new InetSocketAddress(host, port), TIMEOUT_MILLIS);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        }
        try {
            out.write(request);
            out.flush();
            readAnswer();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void readAnswer() throws IOException {
        String status = line();
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP answer: " + status);
        }
        int code = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean closing = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
            switch (name) {
                case "content-length" -> length = Long.parseLong(value);
                case "transfer-encoding" -> chunked = value.contains("chunked");
                case "connection" -> closing = value.contains("close");
                default -> { }
            }
        }
        ByteArrayOutputStream error = code == 200 ? null : new ByteArrayOutputStream();
        if (chunked) {
            for (long size = Long.parseLong(line().split(";", 2)[0].trim(), 16); size > 0;
                 size = Long.parseLong(line().split(";", 2)[0].trim(), 16)) {
                skip(size, error);
                line();
            }
            for (String trailer = line(); !trailer.isEmpty(); trailer = line()) {
                // trailers are not used by berth; read past them
            }
        } else if (length >= 0) {
            skip(length, error);
        } else {
            throw new IOException("answer without Content-Length or chunked encoding (HTTP " + code + ")");
        }
        if (closing) {
            close();
        }
        if (error != null) {
            String body = error.toString(StandardCharsets.UTF_8).strip();
            throw new IOException("HTTP " + code + (body.isEmpty() ? "" : ": " + (body.length() > 300 ? body.substring(0, 300) + "..." : body)));
        }
    }

    private void skip(long n, ByteArrayOutputStream keep) throws IOException {
        while (n > 0) {
            int r = in.read(scratch, 0, (int) Math.min(scratch.length, n));
            if (r < 0) {
                throw new EOFException("connection closed in the middle of an answer");
            }
            if (keep != null && keep.size() < 4096) {
                keep.write(scratch, 0, r);
            }
            n -= r;
        }
    }

    private String line() throws IOException {
        StringBuilder s = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed by the server");
            }
            if (c != '\r') {
                s.append((char) c);
            }
            if (s.length() > 16 * 1024) {
                throw new IOException("answer header line over 16 KiB");
            }
        }
        return s.toString();
    }

    @Override
    public void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing a connection we are done with
            }
            socket = null;
        }
    }
}
