import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;

/**
 * setns(2) for the calling thread, through JDK 17's incubating foreign linker
 * (jdk.incubator.foreign, JEP 412): the JDK has no API for namespaces. The API changed in
 * every release until JDK 22, so this file builds on JDK 17 only; other JDKs run the client
 * as a process started in the trial's namespace instead.
 */
final class Netns {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;

    static {
        CLinker linker = CLinker.getInstance();
        var libc = CLinker.systemLookup();
        OPEN = linker.downcallHandle(libc.lookup("open").orElseThrow(),
                MethodType.methodType(int.class, MemoryAddress.class, int.class),
                FunctionDescriptor.of(CLinker.C_INT, CLinker.C_POINTER, CLinker.C_INT));
        SETNS = linker.downcallHandle(libc.lookup("setns").orElseThrow(),
                MethodType.methodType(int.class, int.class, int.class),
                FunctionDescriptor.of(CLinker.C_INT, CLinker.C_INT, CLinker.C_INT));
        CLOSE = linker.downcallHandle(libc.lookup("close").orElseThrow(),
                MethodType.methodType(int.class, int.class),
                FunctionDescriptor.of(CLinker.C_INT, CLinker.C_INT));
    }

    private Netns() {}

    /** Moves the calling thread into the network namespace the file at {@code path} names. */
    static void enter(String path) throws IOException {
        try (ResourceScope scope = ResourceScope.newConfinedScope()) {
            MemorySegment cpath = CLinker.toCString(path, scope);
            int fd = (int) OPEN.invokeExact(cpath.address(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("open(" + path + ") failed");
            }
            int rc = (int) SETNS.invokeExact(fd, CLONE_NEWNET);
            int ignored = (int) CLOSE.invokeExact(fd);
            if (rc != 0) {
                throw new IOException("setns(" + path + ", CLONE_NEWNET) failed");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }
}
