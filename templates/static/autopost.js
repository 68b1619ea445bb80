// Submits the SAML POST form at once, as IdPs do; the button is the fallback without JavaScript.
document.getElementById("saml-post").submit();
