"""One module per exchange format. Readers yield ``ReportRecord``s in the file's own offsets;
``core.importer`` normalises, validates and stores them. Writers take reports with their spans."""
