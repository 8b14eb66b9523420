package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

    @TempDir
    Path directory;

    @Test
    void wineCountHeaderFile() {
        Dataset wine = TestFiles.wine();

        assertEquals(178, wine.size());
        assertEquals(13, wine.featureCount());
        assertTrue(wine.isClassification());
        assertEquals(List.of("class_0", "class_1", "class_2"), wine.classNames());
        assertEquals(3, wine.classCount());
        assertArrayEquals(new int[] {59, 71, 48}, wine.classCounts());
        float[] firstRow = {14.23f, 1.71f, 2.43f, 15.6f, 127f, 2.8f, 3.06f, 0.28f, 2.29f, 5.64f, 1.04f, 3.92f, 1065f};
        for (int c = 0; c < firstRow.length; c++) {
            assertEquals(firstRow[c], wine.feature(0, c), "feature " + c + " of row 0");
        }
        assertEquals(0, wine.classes()[0]);
        assertEquals(560f, wine.feature(177, 12));
        assertEquals(2, wine.classes()[177]);
        assertEquals("feature_0", wine.featureNames().get(0));
        assertEquals(0, wine.missingCount());
    }

    @Test
    void irisCountHeaderFile() {
        Dataset iris = Csv.readCountHeaderClassification(TestFiles.resource("iris.csv"));

        assertEquals(150, iris.size());
        assertEquals(4, iris.featureCount());
        assertEquals(List.of("setosa", "versicolor", "virginica"), iris.classNames());
        assertArrayEquals(new int[] {50, 50, 50}, iris.classCounts());
        assertEquals(5.1f, iris.feature(0, 0));
    }

    @Test
    void diabetesRegression() {
        Dataset diabetes = Csv.readRegression(TestFiles.resource("diabetes.csv"), "target");

        assertEquals(442, diabetes.size());
        assertEquals(10, diabetes.featureCount());
        assertFalse(diabetes.isClassification());
        assertEquals(1, diabetes.targetWidth());
        assertEquals(List.of("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"), diabetes.featureNames());
        assertEquals(List.of("target"), diabetes.targetNames());
        assertEquals(59f, diabetes.feature(0, 0));
        assertEquals(4.8598f, diabetes.feature(0, 8));
        assertEquals(151f, diabetes.targets()[0]);
        assertEquals(75f, diabetes.targets()[1]);
        assertThrows(IllegalStateException.class, diabetes::classes);
    }

    @Test
    void regressionUnknownTargetListsColumns() {
        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readRegression(TestFiles.resource("diabetes.csv"), "progression"));

        assertTrue(e.getMessage().contains("'progression'"), e.getMessage());
        assertTrue(e.getMessage().contains("[age, sex"), e.getMessage());
    }

    @Test
    void digitsWithoutHeader() {
        Dataset digits = Csv.readClassification(TestFiles.resource("digits_first40.csv"), false, -1);

        assertEquals(40, digits.size());
        assertEquals(64, digits.featureCount());
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), digits.classNames());
        assertEquals(0, digits.classes()[0]);
        assertEquals(1, digits.classes()[1]);
        assertEquals(5f, digits.feature(0, 2));
        assertEquals("column_1", digits.featureNames().get(0));
    }

    @Test
    void classificationLabelColumnFirst() {
        Path file = TestFiles.write(directory, "first.csv", "label,a,b\n1,0.5,2\n0,1.5,3\n");

        Dataset data = Csv.readClassification(file, true, 0);

        assertEquals(List.of("a", "b"), data.featureNames());
        assertArrayEquals(new int[] {1, 0}, data.classes());
        assertArrayEquals(new float[] {0.5f, 2f, 1.5f, 3f}, data.features());
    }

    @Test
    void missingCellsReadAsNaN() {
        Path file = TestFiles.write(directory, "missing.csv", "a,b,target\n1,,10\nNA,4,20\n3,NaN,30\n?,8,40\n");

        Dataset data = Csv.readRegression(file, "target");

        assertTrue(Float.isNaN(data.feature(0, 1)));
        assertTrue(Float.isNaN(data.feature(1, 0)));
        assertTrue(Float.isNaN(data.feature(2, 1)));
        assertTrue(Float.isNaN(data.feature(3, 0)));
        assertEquals(4, data.missingCount());
        assertEquals(3f, data.feature(2, 0));
    }

    @Test
    void nonNumericCellNamesLineColumnAndText() {
        Path file = TestFiles.write(directory, "bad.csv", "a,b,target\n1,2,3\n4,five,6\n");

        DataFormatException e = assertThrows(DataFormatException.class, () -> Csv.readRegression(file, "target"));

        assertEquals(3, e.line());
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("column 2 ('b')"), e.getMessage());
        assertTrue(e.getMessage().contains("'five'"), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void lineNumbersWithQuotedBreaks() {
        Path file = TestFiles.write(directory, "lines.csv", "\"a\nsecond line\",b\n1,2\n\n3,x\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)));

        assertEquals(5, e.line());
    }

    @Test
    void numberSyntaxIsStrict() {
        for (String text : List.of("1f", "0x10", "Infinity", "1e", ".", "1;5", "--1")) {
            Path file = TestFiles.write(directory, "strict.csv", "a\n" + text + "\n");

            DataFormatException e = assertThrows(DataFormatException.class,
                    () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)), text);

            assertTrue(e.getMessage().contains("'" + text + "' is not a number"), e.getMessage());
        }
        assertTrue(Csv.isDecimalNumber("-1.5e+3"));
        assertTrue(Csv.isDecimalNumber(".5"));
        assertTrue(Csv.isDecimalNumber("7."));
    }

    @Test
    void numberOutsideFloatRangeRejected() {
        Path file = TestFiles.write(directory, "huge.csv", "a\n1e39\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)));

        assertTrue(e.getMessage().contains("outside the float range"), e.getMessage());
    }

    @Test
    void countHeaderSampleMismatchReported() {
        Path file = TestFiles.write(directory, "short.csv", "3,2,no,yes\n1,2,0\n3,4,1\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readCountHeaderClassification(file));

        assertTrue(e.getMessage().contains("declares 3 samples"), e.getMessage());
        assertTrue(e.getMessage().contains("has 2 data rows"), e.getMessage());
    }

    @Test
    void countHeaderFeatureMismatchReported() {
        Path file = TestFiles.write(directory, "wide.csv", "2,2,no,yes\n1,2,0\n3,4,5,1\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readCountHeaderClassification(file));

        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("expected 3 columns (2 features declared on line 1"), e.getMessage());
        assertTrue(e.getMessage().contains("found 4"), e.getMessage());
    }

    @Test
    void countHeaderMalformedFirstLine() {
        Path file = TestFiles.write(directory, "names.csv", "a,b,class\n1,2,0\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readCountHeaderClassification(file));

        assertTrue(e.getMessage().contains("sample count 'a'"), e.getMessage());
    }

    @Test
    void classIndexOutOfDeclaredRange() {
        Path file = TestFiles.write(directory, "range.csv", "2,1,no,yes\n1,0\n2,2\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readCountHeaderClassification(file));

        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("is 2, outside [0, 2)"), e.getMessage());
    }

    @Test
    void missingLabelNamesLine() {
        Path file = TestFiles.write(directory, "nolabel.csv", "1,2,0\n3,4,\n");

        DataFormatException e = assertThrows(DataFormatException.class, () -> Csv.readClassification(file, false, -1));

        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("missing class index in column 3"), e.getMessage());
    }

    @Test
    void fractionalLabelRejected() {
        Path file = TestFiles.write(directory, "fraction.csv", "1,2,0\n3,4,1.5\n");

        DataFormatException e = assertThrows(DataFormatException.class, () -> Csv.readClassification(file, false, -1));

        assertTrue(e.getMessage().contains("1.5, which is not a non-negative integer"), e.getMessage());
    }

    @Test
    void missingTargetNamesLine() {
        Path file = TestFiles.write(directory, "notarget.csv", "a,y\n1,2\n3,NA\n");

        DataFormatException e = assertThrows(DataFormatException.class, () -> Csv.readRegression(file, "y"));

        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("missing target"), e.getMessage());
    }

    @Test
    void raggedRowsRejected() {
        Path file = TestFiles.write(directory, "ragged.csv", "1,2,3\n4,5\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(false)));

        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("expected 3 columns like the first row but found 2"), e.getMessage());
    }

    @Test
    void unclosedQuoteIsFormatError() {
        Path file = TestFiles.write(directory, "quote.csv", "a,b\n1,\"2\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)));

        assertTrue(e.getMessage().contains("invalid CSV syntax"), e.getMessage());
    }

    @Test
    void duplicateColumnNamesRejected() {
        Path file = TestFiles.write(directory, "dup.csv", "a,b,a\n1,2,3\n");

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)));

        assertTrue(e.getMessage().contains("columns 1 and 3 are both named 'a'"), e.getMessage());
    }

    @Test
    void emptyFileAndHeaderOnlyRejected() {
        Path empty = TestFiles.write(directory, "empty.csv", "");
        Path headerOnly = TestFiles.write(directory, "header.csv", "a,b\n");

        DataFormatException emptyError = assertThrows(DataFormatException.class,
                () -> Csv.readTable(empty, CsvFormatOptions.commaSeparated(true)));
        DataFormatException headerError = assertThrows(DataFormatException.class,
                () -> Csv.readTable(headerOnly, CsvFormatOptions.commaSeparated(true)));

        assertTrue(emptyError.getMessage().contains("empty"), emptyError.getMessage());
        assertTrue(headerError.getMessage().contains("no data rows"), headerError.getMessage());
    }

    @Test
    void tableWithCustomDelimiterAndMarkers() {
        Path file = TestFiles.write(directory, "semi.csv", "\uFEFFx;y\n1;missing\n 2 ; 3 \n");

        Table table = Csv.readTable(file, new CsvFormatOptions(';', true, Set.of("missing")));

        assertEquals(List.of("x", "y"), table.columnNames());
        assertEquals(2, table.rowCount());
        assertTrue(Float.isNaN(table.value(0, 1)));
        assertEquals(3f, table.value(1, 1));
        assertEquals(3, table.lineNumber(1));
        assertArrayEquals(new float[] {1f, 2f}, table.column(0));
    }

    @Test
    void missingFileIsIoError() {
        Path file = directory.resolve("absent.csv");

        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> Csv.readTable(file, CsvFormatOptions.commaSeparated(true)));

        assertTrue(e.getMessage().contains("absent.csv"), e.getMessage());
    }
}
