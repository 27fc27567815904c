import java.io.IOException;

/**
 * The namespace entry of JDKs other than 17, whose foreign linker API differs: none. The
 * harness then runs the client as a process started in the trial's namespace, and never asks
 * it to enter one.
 */
final class Netns {
    private Netns() {}

    static void enter(String path) throws IOException {
        throw new IOException("this JDK's client was built without namespace entry (JDK 17 only): cannot enter " + path);
    }
}
