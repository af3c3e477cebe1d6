// A long-lived JVM that runs HumanEval-X Java programs, each in a fresh class loader (its own
// Main, Solution and HxEntry classes and their static state) on a fresh thread named "main"
// with the 64 MB stack that `java -Xss64m` gives, so a program costs a class load, not a JVM
// start-up. The runner sends only programs that use nothing process-wide (System.exit, threads,
// reflection, files, ...; see humaneval_x/assembly.java_vm_eligible): for those this behaves as
// `java -cp . HxEntry`.
// Protocol: in, one JSON object per line {"file": ".../Main.java", "out": path, "err": path}
// (classes are in the file's folder); out {"code": 0} when main returned, {"code": 1} after an
// uncaught throwable, printed as Java prints it. After a VirtualMachineError (out of memory,
// stack overflow) the JVM answers and exits: the runner starts a fresh one.
import java.io.*;
import java.lang.reflect.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;

public class HxRun {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream reply = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        reply.println("{\"ready\": true}");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) continue;
            Map<String, String> req = new HashMap<>();
            Matcher m = FIELD.matcher(line);
            while (m.find()) req.put(m.group(1), m.group(2));
            boolean[] fatal = {false};
            int code = runOne(Paths.get(req.get("file")).getParent(), req.get("out"), req.get("err"), fatal);
            reply.println("{\"code\": " + code + "}");
            if (fatal[0]) System.exit(0);
        }
    }

    static int runOne(Path dir, String outPath, String errPath, boolean[] fatal) throws Exception {
        PrintStream stdout = System.out, stderr = System.err;
        try (PrintStream out = new PrintStream(new FileOutputStream(outPath), true);
             PrintStream err = new PrintStream(new FileOutputStream(errPath), true);
             URLClassLoader loader = new URLClassLoader(new URL[]{dir.toUri().toURL()},
                                                        ClassLoader.getPlatformClassLoader())) {
            System.setOut(out);
            System.setErr(err);
            Throwable[] failure = {null};
            Thread main = new Thread(null, () -> {
                try {
                    Class<?> entry = Class.forName("HxEntry", false, loader);
                    Method entryMain = entry.getMethod("main", String[].class);
                    entryMain.setAccessible(true);  // HxEntry is package-private, as the launcher allows
                    entryMain.invoke(null, (Object) new String[0]);
                } catch (InvocationTargetException e) {
                    failure[0] = e.getCause();
                } catch (Throwable e) {
                    failure[0] = e;
                }
            }, "main", 64L << 20);
            main.setContextClassLoader(loader);
            main.start();
            main.join();
            out.flush();
            if (failure[0] == null) return 0;
            Throwable t = failure[0];
            fatal[0] = t instanceof VirtualMachineError;
            trimWorkerFrames(t);
            err.print("Exception in thread \"main\" ");
            t.printStackTrace(err);
            err.flush();
            return 1;
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    // drop the frames below HxEntry.main (reflection and this class): they are not the program's
    static void trimWorkerFrames(Throwable t) {
        StackTraceElement[] st = t.getStackTrace();
        for (int i = 0; i < st.length; i++) {
            if (st[i].getClassName().equals("HxEntry") && st[i].getMethodName().equals("main")) {
                t.setStackTrace(Arrays.copyOf(st, i + 1));
                return;
            }
        }
    }
}
