package dev.berth.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.webserver.ConnectionContext;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Serves an HTTP/1.0 connection with Helidon's HTTP/1.1 connection (which refuses 1.0 outright) by
 * rewriting bytes at the socket edge, in both directions:
 * <ul>
 *   <li>Requests: the request line's version becomes {@code HTTP/1.1}; {@code Connection: close} is added
 *       unless the client asked for {@code keep-alive} (HTTP/1.0's default is to close); a missing
 *       {@code Host} (optional in 1.0, required in 1.1) is filled with the local address; hop-by-hop
 *       headers that mean something else in 1.1 ({@code Expect}, {@code Upgrade}, {@code Keep-Alive})
 *       are dropped; bare-LF line ends are accepted. Bodies pass through, framed by Content-Length.</li>
 *   <li>Responses: the status line says {@code HTTP/1.0}; a chunked body (which 1.0 clients cannot read)
 *       is de-chunked and the connection closed after it; the connection header says
 *       {@code keep-alive} only when the client asked for it and the body is length-delimited.</li>
 * </ul>
 * Lines too long for the limits are passed through untouched so that Helidon's own parser answers
 * them (414, 431). Requests after an HTTP/1.1 request line on the same connection pass unchanged.
 *
 * <p>Why over 400 lines: the request and the response rewriting are two halves of one byte-level state
 * machine per connection (what the client asked for decides how the answer is framed).
 */
final class Http10Translation {
    private static final byte[] CRLF = {'\r', '\n'};

    /** What the response side must know about the request it answers. */
    private record Pending(boolean http10, boolean head, boolean keepAlive) {
    }

    private final Queue<Pending> pending = new ConcurrentLinkedQueue<>();
    /** Set once a response ends the connection: the next read reports end of stream, so Helidon closes. */
    private volatile boolean closeAfterResponse;

    private Http10Translation() {
    }

    /** The context Helidon's HTTP/1 connection runs on for an HTTP/1.0 client. */
    static ConnectionContext wrap(ConnectionContext ctx, int maxRequestLine, int maxHeaders) {
        Http10Translation t = new Http10Translation();
        String address = ctx.localPeer().host();
        String host = (address.contains(":") ? "[" + address + "]" : address) + ":" + ctx.localPeer().port();
        DataReader reader = new DataReader(t.new Requests(ctx.dataReader(), maxRequestLine, maxHeaders, host));
        return new LegacyHttpSelector.Rewired(ctx, reader, t.new Responses(ctx.dataWriter()));
    }

    /** Request bytes as Helidon reads them: one request head per call, then the body as it arrives. */
    private final class Requests implements Supplier<byte[]> {
        private final DataReader in;
        private final int maxRequestLine;
        private final int maxHeaders;
        private final String host;
        private long bodyLeft;
        private boolean raw;

        Requests(DataReader in, int maxRequestLine, int maxHeaders, String host) {
            this.in = in;
            this.maxRequestLine = maxRequestLine;
            this.maxHeaders = maxHeaders;
            this.host = host;
        }

        @Override
        public byte[] get() {
            if (closeAfterResponse) {
                return null;
            }
            try {
                if (raw) {
                    in.ensureAvailable();
                    return in.readBytes(in.available());
                }
                if (bodyLeft > 0) {
                    in.ensureAvailable();
                    int n = (int) Math.min(in.available(), bodyLeft);
                    bodyLeft -= n;
                    return in.readBytes(n);
                }
                return nextHead();
            } catch (DataReader.InsufficientDataAvailableException e) {
                return null; // the client closed its side
            }
        }

        private byte[] nextHead() {
            ByteArrayOutputStream out = new ByteArrayOutputStream(512);
            String line;
            do { // RFC 9112 2.2: empty lines before a request line are ignored
                line = readLine(maxRequestLine, out);
                if (line == null) {
                    raw = true;
                    return out.toByteArray();
                }
            } while (line.isEmpty());
            if (!line.endsWith(" HTTP/1.0")) {
                // an HTTP/1.1 request (or garbage) after all: Helidon's parser answers it as it is
                out.write(CRLF, 0, 2);
                raw = true;
                pending.add(new Pending(false, false, true));
                return out.toByteArray();
            }
            ByteArrayOutputStream head = new ByteArrayOutputStream(512);
            writeAscii(head, line.substring(0, line.length() - "1.0".length()) + "1.1");
            head.write(CRLF, 0, 2);
            boolean isHead = line.startsWith("HEAD ");
            boolean keepAlive = false;
            boolean close = false;
            boolean hasHost = false;
            boolean chunked = false;
            long contentLength = 0;
            int budget = maxHeaders;
            while (true) {
                ByteArrayOutputStream original = new ByteArrayOutputStream(128);
                String header = readLine(budget, original);
                if (header == null) {
                    // headers too large: hand Helidon what it would have seen, it answers 431
                    head.writeBytes(original.toByteArray());
                    raw = true;
                    pending.add(new Pending(true, isHead, false));
                    return head.toByteArray();
                }
                budget -= header.length() + 2;
                if (header.isEmpty()) {
                    break;
                }
                int colon = header.indexOf(':');
                String name = colon < 0 ? "" : header.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = colon < 0 ? "" : header.substring(colon + 1).trim();
                switch (name) {
                    case "connection", "proxy-connection" -> {
                        for (String token : value.toLowerCase(Locale.ROOT).split(",")) {
                            keepAlive |= token.trim().equals("keep-alive");
                            close |= token.trim().equals("close");
                        }
                        continue;
                    }
                    case "keep-alive", "expect", "upgrade", "te" -> {
                        continue; // no meaning for a 1.0 client, or one that would change the exchange
                    }
                    case "host" -> hasHost = true;
                    case "transfer-encoding" -> chunked = true;
                    case "content-length" -> {
                        try {
                            contentLength = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            contentLength = 0; // Helidon refuses the header itself with a 400
                        }
                    }
                    default -> {
                    }
                }
                writeAscii(head, header);
                head.write(CRLF, 0, 2);
            }
            if (!hasHost) {
                writeAscii(head, "Host: " + host + "\r\n");
            }
            // HTTP/1.0 has no chunked framing: with one, the body's end is unknown here, so this is the last request
            boolean persistent = keepAlive && !close && !chunked;
            writeAscii(head, persistent ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
            head.write(CRLF, 0, 2);
            if (chunked) {
                raw = true;
            } else {
                bodyLeft = Math.max(0, contentLength);
            }
            pending.add(new Pending(true, isHead, persistent));
            return head.toByteArray();
        }

        /**
         * One line without its line end (CRLF or a bare LF), its bytes also copied to {@code raw}; null when
         * the line is longer than {@code max}, {@code raw} then holding what was read.
         */
        private String readLine(int max, ByteArrayOutputStream raw) {
            StringBuilder line = new StringBuilder();
            while (true) {
                if (line.length() > max) {
                    return null;
                }
                byte b = in.read();
                raw.write(b);
                if (b == '\n') {
                    int end = line.length();
                    if (end > 0 && line.charAt(end - 1) == '\r') {
                        line.setLength(end - 1);
                    }
                    return line.toString();
                }
                line.append((char) (b & 0xff));
            }
        }
    }

    /** Response bytes as the client gets them. */
    private final class Responses implements DataWriter {
        private final DataWriter out;
        private final ByteArrayOutputStream head = new ByteArrayOutputStream(256);
        /** The last four head bytes, to spot the blank line that ends it. */
        private int tail;
        /** After an HTTP/1.1 request on this connection nothing is parsed any more: bytes pass unchanged. */
        private boolean passThrough;
        private Pending current;
        /** Body bytes still to pass through unchanged; -1 while reading a head. */
        private long bodyLeft = -1;
        private Dechunker dechunker;

        Responses(DataWriter out) {
            this.out = out;
        }

        @Override
        public void write(BufferData... buffers) {
            for (BufferData b : buffers) {
                write(b);
            }
        }

        @Override
        public void write(BufferData buffer) {
            byte[] bytes = new byte[buffer.available()];
            buffer.read(bytes);
            BufferData translated = translate(bytes);
            if (translated.available() > 0) {
                out.write(translated);
            }
        }

        @Override
        public void writeNow(BufferData... buffers) {
            for (BufferData b : buffers) {
                writeNow(b);
            }
        }

        @Override
        public void writeNow(BufferData buffer) {
            byte[] bytes = new byte[buffer.available()];
            buffer.read(bytes);
            BufferData translated = translate(bytes);
            if (translated.available() > 0) {
                out.writeNow(translated);
            }
        }

        @Override
        public void flush() {
            out.flush();
        }

        @Override
        public void close() {
            out.close();
        }

        private BufferData translate(byte[] bytes) {
            ByteArrayOutputStream result = new ByteArrayOutputStream(bytes.length + 64);
            int i = 0;
            while (i < bytes.length) {
                if (passThrough) {
                    result.write(bytes, i, bytes.length - i);
                    break;
                }
                if (dechunker != null) {
                    i = dechunker.feed(bytes, i, result);
                    if (dechunker.done()) {
                        dechunker = null;
                        bodyLeft = -1;
                    }
                } else if (bodyLeft > 0) {
                    int n = (int) Math.min(bodyLeft, bytes.length - i);
                    result.write(bytes, i, n);
                    bodyLeft -= n;
                    i += n;
                    if (bodyLeft == 0) {
                        bodyLeft = -1;
                    }
                } else {
                    byte b = bytes[i++];
                    head.write(b);
                    tail = (tail << 8) | (b & 0xff);
                    if (tail == 0x0d0a0d0a) {
                        tail = 0;
                        startResponse(result);
                    }
                }
            }
            return BufferData.create(result.toByteArray());
        }

        /** A complete response head from Helidon: rewrite it and set up the body's framing. */
        private void startResponse(ByteArrayOutputStream result) {
            String text = head.toString(StandardCharsets.ISO_8859_1);
            head.reset();
            String[] lines = text.substring(0, text.length() - 4).split("\r\n");
            int status = lines[0].length() >= 12 ? Integer.parseInt(lines[0].substring(9, 12)) : 500;
            if (status >= 100 && status < 200) {
                return; // an interim response means nothing to an HTTP/1.0 client
            }
            current = pending.poll();
            if (current == null) {
                current = new Pending(true, false, false); // a direct-handler error for a request not yet parsed
            }
            if (!current.http10()) {
                result.writeBytes(text.getBytes(StandardCharsets.ISO_8859_1));
                passThrough = true;
                return;
            }
            boolean chunked = false;
            boolean closes = false;
            long length = -1;
            StringBuilder kept = new StringBuilder();
            for (int k = 1; k < lines.length; k++) {
                String line = lines[k];
                int colon = line.indexOf(':');
                String name = colon < 0 ? "" : line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = colon < 0 ? "" : line.substring(colon + 1).trim();
                switch (name) {
                    case "transfer-encoding" -> {
                        chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                        continue;
                    }
                    case "connection" -> {
                        closes = value.toLowerCase(Locale.ROOT).contains("close");
                        continue;
                    }
                    case "keep-alive" -> {
                        continue;
                    }
                    case "content-length" -> length = Long.parseLong(value);
                    default -> {
                    }
                }
                kept.append(line).append("\r\n");
            }
            boolean bodyless = current.head() || status == 204 || status == 304;
            boolean delimited = bodyless || (!chunked && length >= 0);
            boolean persistent = current.keepAlive() && !closes && delimited;
            String statusLine = "HTTP/1.0" + lines[0].substring(Math.min(8, lines[0].length()));
            String rewritten = statusLine + "\r\n" + kept
                    + (persistent ? "Connection: keep-alive\r\n" : "Connection: close\r\n") + "\r\n";
            result.writeBytes(rewritten.getBytes(StandardCharsets.ISO_8859_1));
            if (!persistent) {
                closeAfterResponse = true;
            }
            if (bodyless) {
                bodyLeft = -1;
            } else if (chunked) {
                dechunker = new Dechunker();
            } else if (length > 0) {
                bodyLeft = length;
            } else if (length < 0) {
                bodyLeft = Long.MAX_VALUE; // until the connection closes
            }
        }

    }

    /** Turns a chunked body into its plain bytes (an HTTP/1.0 body then ends where the connection does). */
    private static final class Dechunker {
        private final StringBuilder line = new StringBuilder();
        private long chunkLeft = -1; // -1: reading a size line (or a trailer line)
        private int crlfLeft;
        private boolean trailers;
        private boolean done;

        boolean done() {
            return done;
        }

        int feed(byte[] b, int i, ByteArrayOutputStream out) {
            while (i < b.length && !done) {
                if (crlfLeft > 0) {
                    i++;
                    crlfLeft--;
                } else if (chunkLeft > 0) {
                    int n = (int) Math.min(chunkLeft, b.length - i);
                    out.write(b, i, n);
                    chunkLeft -= n;
                    i += n;
                    if (chunkLeft == 0) {
                        crlfLeft = 2;
                        chunkLeft = -1;
                    }
                } else {
                    byte c = b[i++];
                    if (c != '\n') {
                        if (c != '\r') {
                            line.append((char) c);
                        }
                        continue;
                    }
                    String text = line.toString().trim();
                    line.setLength(0);
                    if (trailers) {
                        done = text.isEmpty(); // trailers are dropped: HTTP/1.0 has none
                    } else {
                        int ext = text.indexOf(';');
                        long size = Long.parseLong(ext < 0 ? text : text.substring(0, ext).trim(), 16);
                        if (size == 0) {
                            trailers = true;
                        } else {
                            chunkLeft = size;
                        }
                    }
                }
            }
            return i;
        }
    }

    private static void writeAscii(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
    }
}
