// matrix-js-sdk 43 targets Node 22; this machine's Node 20 lacks Promise.withResolvers, which the SDK uses.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
