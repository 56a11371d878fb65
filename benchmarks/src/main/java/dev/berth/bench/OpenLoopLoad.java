package dev.berth.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.BufferedInputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A constant-rate (open-loop) HTTP/1.1 load generator for {@code bench/soak --rate}: requests are
 * sent on a fixed schedule, whatever the server does, and each one's latency is measured from the
 * moment the schedule meant to send it, not from when it was sent. A closed-loop client (wrk) sends
 * the next request only after the previous answer, so a stall delays requests it then never times
 * ("coordinated omission") and, at saturation, its latency measures how the load generator and the
 * server share the CPU as much as the server. Here a stall shows as every request scheduled during
 * it being late.
 *
 * <p>{@code connections} keep-alive connections, each a platform thread with one request in flight
 * at a time; connection {@code i} sends its {@code k}-th request at {@code start + (k * connections
 * + i) / rate}. A connection that is behind its schedule sends at once (the latency then includes
 * the wait). Requests cycle through the given bodies, as {@code bench/soak.lua} does.
 *
 * <p>After every slice (by schedule time) one line goes to standard output:
 * {@code OPEN slice requests duration_us p50_ms p99_ms errors p999_ms max_ms late_pct},
 * {@code late_pct} being the share of requests sent more than 1 ms after their scheduled time
 * (the client itself falling behind). Each request counts in the slice of its scheduled time.
 * With {@code slowLog}, every request slower than {@code slowMillis} is written there as
 * {@code scheduled_ms_since_start latency_ms connection} (after a first line {@code # start_epoch_ms T}), to see whether slow requests cluster in time
 * (a stall of the whole server) or fall one by one.
 */
public final class OpenLoopLoad {
    private final String host;
    private final int port;
    private final List<byte[]> requests;
    private final double rate;
    private final int connections;
    private final int slices;
    private final long sliceNanos;
    private final double slowMillis;
    private final PrintStream out;
    private final PrintStream slowLog;

    /** Latencies (microseconds) and errors of one slice, filled by every connection. */
    private static final class Slice {
        long[] micros = new long[1 << 16];
        int count;
        int errors;
        int late;

        synchronized void add(long latencyMicros, boolean lateStart) {
            if (count == micros.length) {
                micros = Arrays.copyOf(micros, micros.length * 2);
            }
            micros[count++] = latencyMicros;
            if (lateStart) {
                late++;
            }
        }

        synchronized void error() {
            errors++;
        }
    }

    private final Slice[] results;
    private final int[] finished;

    OpenLoopLoad(String host, int port, List<byte[]> requests, double rate, int connections, int slices, long sliceNanos,
                 double slowMillis, PrintStream out, PrintStream slowLog) {
        if (rate <= 0 || connections < 1 || slices < 1 || sliceNanos <= 0 || requests.isEmpty()) {
            throw new IllegalArgumentException("rate, connections, slices, slice length and requests must be positive");
        }
        this.host = host;
        this.port = port;
        this.requests = List.copyOf(requests);
        this.rate = rate;
        this.connections = connections;
        this.slices = slices;
        this.sliceNanos = sliceNanos;
        this.slowMillis = slowMillis;
        this.out = out;
        this.slowLog = slowLog;
        this.results = new Slice[slices];
        for (int i = 0; i < slices; i++) {
            results[i] = new Slice();
        }
        this.finished = new int[slices];
    }

    /** Runs every slice, printing each slice's line once every connection is past it. */
    void run() throws InterruptedException {
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        if (slowLog != null) {
            // the wall-clock time of the schedule's start, to line slow requests up with the server's logs
            slowLog.printf(Locale.ROOT, "# start_epoch_ms %d%n", System.currentTimeMillis() + 100);
        }
        long end = start + slices * sliceNanos;
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            int conn = c;
            threads.add(Thread.ofPlatform().daemon().name("open-loop-" + c).start(() -> drive(conn, start, end)));
        }
        int printed = 0;
        while (printed < slices) {
            synchronized (finished) {
                while (finished[printed] < connections) {
                    finished.wait();
                }
            }
            print(printed);
            printed++;
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    private void print(int index) {
        Slice s = results[index];
        long[] sorted;
        int errors;
        int late;
        synchronized (s) {
            sorted = Arrays.copyOf(s.micros, s.count);
            errors = s.errors;
            late = s.late;
        }
        Arrays.sort(sorted);
        out.printf(Locale.ROOT, "OPEN\t%d\t%d\t%d\t%.3f\t%.3f\t%d\t%.3f\t%.3f\t%.2f%n", index + 1, sorted.length + errors,
                sliceNanos / 1000, percentile(sorted, 50), percentile(sorted, 99), errors, percentile(sorted, 99.9),
                sorted.length == 0 ? 0.0 : sorted[sorted.length - 1] / 1000.0,
                sorted.length == 0 ? 0.0 : 100.0 * late / sorted.length);
        out.flush();
    }

    /** The {@code p}-th percentile in milliseconds: the smallest latency at least p % of requests did not exceed. */
    static double percentile(long[] sortedMicros, double p) {
        if (sortedMicros.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sortedMicros.length);
        return sortedMicros[Math.max(0, Math.min(sortedMicros.length - 1, rank - 1))] / 1000.0;
    }

    private void drive(int conn, long start, long end) {
        double intervalNanos = 1e9 * connections / rate;
        long offset = (long) (1e9 * conn / rate);
        int slicesDone = 0;
        Socket socket = null;
        InputStream in = null;
        long k = 0;
        try {
            while (true) {
                long scheduled = start + offset + (long) (k * intervalNanos);
                if (scheduled >= end) {
                    break;
                }
                int slice = (int) ((scheduled - start) / sliceNanos);
                while (slicesDone < slice) {
                    markFinished(slicesDone++);
                }
                long now;
                while ((now = System.nanoTime()) < scheduled) {
                    LockSupport.parkNanos(scheduled - now);
                }
                boolean late = now - scheduled > 1_000_000;
                byte[] request = requests.get((int) ((k * connections + conn) % requests.size()));
                k++;
                try {
                    if (socket == null) {
                        socket = new Socket();
                        socket.setTcpNoDelay(true);
                        socket.connect(new InetSocketAddress(host, port), 10_000);
                        socket.setSoTimeout(10_000);
                        in = new BufferedInputStream(socket.getInputStream(), 16384);
                    }
                    socket.getOutputStream().write(request);
                    int status = readResponse(in);
                    long latency = System.nanoTime() - scheduled;
                    if (status < 200 || status >= 400) {
                        results[slice].error();
                    } else {
                        results[slice].add(latency / 1000, late);
                        if (slowLog != null && latency / 1e6 > slowMillis) {
                            synchronized (slowLog) {
                                slowLog.printf(Locale.ROOT, "%.3f\t%.3f\t%d%n", (scheduled - start) / 1e6, latency / 1e6, conn);
                            }
                        }
                    }
                } catch (IOException e) {
                    results[slice].error();
                    closeQuietly(socket);
                    socket = null;
                }
            }
        } finally {
            closeQuietly(socket);
            while (slicesDone < slices) {
                markFinished(slicesDone++);
            }
        }
    }

    private void markFinished(int slice) {
        synchronized (finished) {
            finished[slice]++;
            finished.notifyAll();
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing a broken connection: nothing to do
            }
        }
    }

    /**
     * Reads one HTTP/1.1 response (status line, headers, a Content-Length or chunked body) and
     * returns its status. Throws on a closed connection or a response it cannot frame.
     */
    static int readResponse(InputStream in) throws IOException {
        String statusLine = readLine(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP status line: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        String line;
        while (!(line = readLine(in)).isEmpty()) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = line.substring(colon + 1).trim();
                if (name.equals("content-length")) {
                    length = Long.parseLong(value);
                } else if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) {
                    chunked = true;
                }
            }
        }
        if (chunked) {
            long size;
            while ((size = Long.parseLong(readLine(in).split(";", 2)[0].trim(), 16)) > 0) {
                skip(in, size);
                readLine(in);
            }
            while (!readLine(in).isEmpty()) {
                // trailers
            }
        } else if (length > 0) {
            skip(in, length);
        } else if (length < 0 && status != 204 && status != 304) {
            throw new IOException("a response without Content-Length or chunked framing");
        }
        return status;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(64);
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("the connection closed in the middle of a response");
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    private static void skip(InputStream in, long n) throws IOException {
        byte[] buffer = new byte[8192];
        while (n > 0) {
            int r = in.read(buffer, 0, (int) Math.min(buffer.length, n));
            if (r < 0) {
                throw new IOException("the connection closed in the middle of a body");
            }
            n -= r;
        }
    }

    /** A POST of {@code body} to {@code path} with a JSON content type, as bytes on the wire. */
    static byte[] post(String host, int port, String path, byte[] body) {
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /**
     * {@code open-loop --port N --bodies FILE --rate R [--host H] [--connections C] [--slices N]
     * [--slice SECONDS] [--slow-ms MS --slow-log FILE]}; FILE holds {@code PATH BODYFILE} lines.
     */
    static void main(List<String> args) throws IOException, InterruptedException {
        String host = "127.0.0.1";
        int port = -1;
        Path bodies = null;
        double rate = -1;
        int connections = 16;
        int slices = 10;
        double slice = 60;
        double slowMs = 20;
        Path slowLogFile = null;
        List<String> rest = new ArrayList<>(args);
        while (!rest.isEmpty()) {
            String arg = rest.remove(0);
            if (rest.isEmpty()) {
                throw new IllegalArgumentException("option " + arg + " needs a value");
            }
            String value = rest.remove(0);
            switch (arg) {
                case "--host" -> host = value;
                case "--port" -> port = Integer.parseInt(value);
                case "--bodies" -> bodies = Path.of(value);
                case "--rate" -> rate = Double.parseDouble(value);
                case "--connections" -> connections = Integer.parseInt(value);
                case "--slices" -> slices = Integer.parseInt(value);
                case "--slice" -> slice = Double.parseDouble(value);
                case "--slow-ms" -> slowMs = Double.parseDouble(value);
                case "--slow-log" -> slowLogFile = Path.of(value);
                default -> throw new IllegalArgumentException("unknown option " + arg);
            }
        }
        if (port < 0 || bodies == null || rate <= 0) {
            throw new IllegalArgumentException("--port, --bodies and --rate are required");
        }
        List<byte[]> requests = new ArrayList<>();
        for (String line : Files.readAllLines(bodies)) {
            String[] pf = line.trim().split("\\s+", 2);
            if (pf.length == 2) {
                requests.add(post(host, port, pf[0], Files.readAllBytes(Path.of(pf[1]))));
            }
        }
        PrintStream slowLog = slowLogFile == null ? null
                : new PrintStream(Files.newOutputStream(slowLogFile), false, StandardCharsets.UTF_8);
        try {
            new OpenLoopLoad(host, port, requests, rate, connections, slices, (long) (slice * 1e9), slowMs, System.out, slowLog).run();
        } finally {
            if (slowLog != null) {
                slowLog.close();
            }
        }
    }
}
