import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * sockerr's runtime client for Java: java.net.Socket and java.nio.channels.SocketChannel
 * (blocking).
 *
 * <p>Speaks the line protocol of runtimes/README.md: one JSON request per line in, one JSON
 * observation per line out. {@code stdio} serves one session on standard input and output, in
 * this process's network namespace; {@code serve PATH} listens on a Unix socket at PATH and
 * serves one session per connection, each on a thread of its own that first enters the
 * namespace the session names ({@link Netns}); it exits when its standard input closes.
 */
public final class SockerrClient {
    /** Every blocking call is bounded, like the harness's own calls (BLOCKING_CALL_LIMIT). */
    static final int LIMIT_MS = 10_000;

    /**
     * Closes a session's socket when a call is still blocked a second past the limit: for the
     * calls that have no timeout of their own (SocketChannel's, a Socket's write), so that a
     * Socket's read still ends with its own SocketTimeoutException.
     */
    static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });

    /** A step the API cannot express; the message says why. */
    static final class Unsupported extends Exception {
        Unsupported(String why) {
            super(why);
        }
    }

    /** One API: the calls a session makes on its one socket. */
    interface Api {
        Object connect(String host, int port) throws Exception;
        Object read(int len) throws Exception;
        Object write(int len) throws Exception;
        Object shutdown(String how) throws Exception;
        Object soError() throws Exception;
        Object getpeername() throws Exception;
        Object setNodelay(boolean on) throws Exception;
        Object setKeepalive(boolean on) throws Exception;
        Object close() throws Exception;
        /** Closes the socket from another thread, to release a blocked call. */
        void release();
        /** The socket's descriptor while it is open, or -1. */
        int fd();
    }

    static byte[] payload(int len) {
        byte[] data = new byte[len];
        Arrays.fill(data, (byte) 'x');
        return data;
    }

    /** A private field's value, looked up in the object's class and its superclasses. */
    static Object field(Object holder, String name) throws ReflectiveOperationException {
        for (Class<?> c = holder.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f.get(holder);
            } catch (NoSuchFieldException e) {
                // look further up
            }
        }
        throw new NoSuchFieldException(name);
    }

    static final class SocketApi implements Api {
        Socket socket;

        public Object connect(String host, int port) throws Exception {
            socket = new Socket();
            socket.setSoTimeout(LIMIT_MS);
            socket.connect(new InetSocketAddress(InetAddress.getByName(host), port), LIMIT_MS);
            return null;
        }

        public Object read(int len) throws Exception {
            return socket.getInputStream().read(new byte[len], 0, len);
        }

        public Object write(int len) throws Exception {
            socket.getOutputStream().write(payload(len));
            return null;
        }

        public Object shutdown(String how) throws Exception {
            switch (how) {
                case "read": socket.shutdownInput(); return null;
                case "write": socket.shutdownOutput(); return null;
                default: throw new Unsupported("java.net.Socket has shutdownInput() and shutdownOutput(), no shutdown(SHUT_RDWR)");
            }
        }

        public Object soError() throws Exception {
            throw new Unsupported("java.net.Socket exposes no SO_ERROR");
        }

        public Object getpeername() throws Exception {
            return String.valueOf(socket.getRemoteSocketAddress());
        }

        public Object setNodelay(boolean on) throws Exception {
            socket.setTcpNoDelay(on);
            return null;
        }

        public Object setKeepalive(boolean on) throws Exception {
            socket.setKeepAlive(on);
            return null;
        }

        public Object close() throws Exception {
            socket.close();
            return null;
        }

        public void release() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // the blocked call reports what happened
            }
        }

        public int fd() {
            if (socket == null || socket.isClosed()) {
                return -1;
            }
            // Read only, to let the harness look at the socket: Socket.impl is a SocksSocketImpl
            // delegating to the NioSocketImpl that holds the descriptor (JDK 13 and later).
            try {
                Object impl = field(socket, "impl");
                try {
                    impl = field(impl, "delegate");
                } catch (NoSuchFieldException e) {
                    // not a delegating impl
                }
                return (Integer) field(field(impl, "fd"), "fd");
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }
    }

    static final class ChannelApi implements Api {
        SocketChannel channel;

        public Object connect(String host, int port) throws Exception {
            channel = SocketChannel.open();
            return channel.connect(new InetSocketAddress(InetAddress.getByName(host), port));
        }

        public Object read(int len) throws Exception {
            return channel.read(ByteBuffer.allocate(len));
        }

        public Object write(int len) throws Exception {
            return channel.write(ByteBuffer.wrap(payload(len)));
        }

        public Object shutdown(String how) throws Exception {
            switch (how) {
                case "read": channel.shutdownInput(); return null;
                case "write": channel.shutdownOutput(); return null;
                default: throw new Unsupported("SocketChannel has shutdownInput() and shutdownOutput(), no shutdown(SHUT_RDWR)");
            }
        }

        public Object soError() throws Exception {
            throw new Unsupported("SocketChannel exposes no SO_ERROR (StandardSocketOptions has none)");
        }

        public Object getpeername() throws Exception {
            return String.valueOf(channel.getRemoteAddress());
        }

        public Object setNodelay(boolean on) throws Exception {
            channel.setOption(StandardSocketOptions.TCP_NODELAY, on);
            return null;
        }

        public Object setKeepalive(boolean on) throws Exception {
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, on);
            return null;
        }

        public Object close() throws Exception {
            channel.close();
            return null;
        }

        public void release() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the blocked call reports what happened
            }
        }

        public int fd() {
            if (channel == null || !channel.isOpen()) {
                return -1;
            }
            try {
                Method m = channel.getClass().getMethod("getFDVal");
                m.setAccessible(true);
                return (Integer) m.invoke(channel);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }
    }

    static Map<String, Object> thrown(Throwable e) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("outcome", "error");
        o.put("type", e.getClass().getName());
        o.put("message", e.getMessage());
        o.put("code", null);
        o.put("errno", null);
        Map<String, Object> fields = new LinkedHashMap<>();
        if (e.getCause() != null) {
            fields.put("cause", e.getCause().getClass().getName() + ": " + e.getCause().getMessage());
        }
        o.put("fields", fields);
        return o;
    }

    static Map<String, Object> ok(Object value) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("outcome", "ok");
        o.put("value", value);
        return o;
    }

    static String version() {
        String name = System.getProperty("java.runtime.name", "Java").split(" ")[0];
        return name + " " + System.getProperty("java.version");
    }

    static Object call(Api api, Map<String, Object> req) throws Exception {
        String op = String.valueOf(req.get("op"));
        switch (op) {
            case "connect": return api.connect((String) req.get("host"), ((Number) req.get("port")).intValue());
            case "read": return api.read(((Number) req.get("len")).intValue());
            case "write": return api.write(((Number) req.get("len")).intValue());
            case "shutdown": return api.shutdown((String) req.get("how"));
            case "so_error": return api.soError();
            case "getpeername": return api.getpeername();
            case "set_nodelay": return api.setNodelay(Boolean.TRUE.equals(req.get("on")));
            case "set_keepalive": return api.setKeepalive(Boolean.TRUE.equals(req.get("on")));
            case "close": return api.close();
            default: throw new Unsupported("no step '" + op + "' in the protocol");
        }
    }

    /** Answers requests until "bye" or the end of input. */
    static void session(BufferedReader in, PrintStream out) throws IOException {
        Api api = null;
        for (String line; (line = in.readLine()) != null; ) {
            Map<String, Object> req = Json.parse(line);
            String op = String.valueOf(req.get("op"));
            if (op.equals("bye")) {
                if (api != null) {
                    api.release();
                    api = null;
                }
                out.print("{\"outcome\":\"ok\",\"fd\":null}\n");
                out.flush();
                return;
            }
            Map<String, Object> o;
            try {
                if (op.equals("hello")) {
                    if (req.get("netns") != null) {
                        Netns.enter((String) req.get("netns"));
                    }
                    String name = String.valueOf(req.get("api"));
                    if (name.equals("java.net.Socket")) {
                        api = new SocketApi();
                    } else if (name.equals("java.nio.channels.SocketChannel")) {
                        api = new ChannelApi();
                    } else {
                        throw new Unsupported("no API '" + name + "' here; this client serves java.net.Socket and java.nio.channels.SocketChannel");
                    }
                    o = ok(null);
                    o.put("runtime", version());
                    o.put("pid", ProcessHandle.current().pid());
                } else if (api == null) {
                    throw new Unsupported("the session has not said hello");
                } else {
                    Api bounded = api;
                    AtomicBoolean released = new AtomicBoolean();
                    ScheduledFuture<?> limit = WATCHDOG.schedule(() -> {
                        released.set(true);
                        bounded.release();
                    }, LIMIT_MS + 1000, TimeUnit.MILLISECONDS);
                    try {
                        o = ok(call(api, req));
                    } catch (Unsupported u) {
                        throw u;
                    } catch (Exception e) {
                        o = thrown(e);
                    } finally {
                        limit.cancel(false);
                    }
                    if (released.get()) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> fields = (Map<String, Object>) o.computeIfAbsent("fields", k -> new LinkedHashMap<>());
                        fields.put("limit", "the call was still blocked after " + (LIMIT_MS + 1000) + " ms; the client closed the socket");
                    }
                }
            } catch (Unsupported u) {
                o = new LinkedHashMap<>();
                o.put("outcome", "unsupported");
                o.put("why", u.getMessage());
            } catch (Exception e) {
                o = thrown(e);
            }
            int fd = api == null ? -1 : api.fd();
            o.put("fd", fd < 0 ? null : fd);
            out.print(Json.write(o) + "\n");
            out.flush();
        }
        if (api != null) {
            api.release();
        }
    }

    static void serve(String path) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(Path.of(path)));
        Thread exit = new Thread(() -> {
            try {
                System.in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // input gone either way
            }
            Runtime.getRuntime().halt(0);
        }, "exit-when-input-closes");
        exit.setDaemon(true);
        exit.start();
        System.out.println("ready");
        System.out.flush();
        while (true) {
            SocketChannel conn = listener.accept();
            Thread t = new Thread(() -> {
                try (conn) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(conn), StandardCharsets.UTF_8));
                    PrintStream out = new PrintStream(Channels.newOutputStream(conn), false, StandardCharsets.UTF_8);
                    session(in, out);
                } catch (IOException ignored) {
                    // the harness went away; the session ends
                }
            }, "session");
            t.setDaemon(true);
            t.start();
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 1 && args[0].equals("stdio")) {
            session(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)),
                    new PrintStream(System.out, false, StandardCharsets.UTF_8));
        } else if (args.length == 2 && args[0].equals("serve")) {
            serve(args[1]);
        } else {
            System.err.println("usage: SockerrClient stdio | serve PATH");
            System.exit(2);
        }
    }
}
