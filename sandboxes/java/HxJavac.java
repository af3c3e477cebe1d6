// A long-lived javac for the HumanEval-X runner: one warm compiler (JIT-compiled, platform
// classes cached by one file manager) instead of a fresh `javac` JVM per program.
// Protocol: one absolute directory per line on stdin; every *.java file in it is compiled into
// it (with <dir> as its only class path), diagnostics go to <dir>/.hx-javac.log, and the exit status (0 ok, 1 errors, 2 crash) is
// written as one line on stdout. Annotation processing is off: compiling runs no program code.
import javax.tools.*;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

public class HxJavac {
    public static void main(String[] args) throws IOException {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        StandardJavaFileManager fm = compiler.getStandardFileManager(null, null, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            Path dir = Paths.get(line.trim());
            int status;
            try (Writer log = Files.newBufferedWriter(dir.resolve(".hx-javac.log"), StandardCharsets.UTF_8)) {
                List<File> sources = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.java")) {
                    for (Path p : ds) sources.add(p.toFile());
                }
                // the program's own folder is its whole class (and source) path, as for a plain `javac` run
                // there (".": no CLASSPATH is set): without it, javac's default would be this server's class
                // path (/opt/hx/javac), and a program naming HxJavac compiled here but not in a naive run
                List<String> options = Arrays.asList("-encoding", "UTF-8", "-proc:none", "-d", dir.toString(),
                                                     "-classpath", dir.toString());
                Boolean ok = compiler.getTask(log, fm, null, options, null,
                                              fm.getJavaFileObjectsFromFiles(sources)).call();
                status = ok ? 0 : 1;
            } catch (Throwable t) {
                status = 2;
            }
            out.println(status);
        }
    }
}
