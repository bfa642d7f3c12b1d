// What an SDK call's error says: its class and status, and the named fields of the error object
// (null when absent); null when the call succeeded.
export async function errorOf(promise, fields) {
  try {
    await promise;
    return null;
  } catch (error) {
    const seen = { class: error.constructor.name, status: error.status };
    for (const field of fields) seen[field] = error[field] ?? null;
    return seen;
  }
}
