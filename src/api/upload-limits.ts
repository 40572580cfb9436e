/** Largest main module a push takes. */
export const MAX_MODULE_BYTES = 256 * 1024 * 1024;
/** Largest multipart file part (the files zip): the zip's own limit (`serve --zip-max-total`) is checked as it is read. */
export const MAX_FILES_ZIP_BYTES = 8 * 1024 * 1024 * 1024;
